"""Exploding and vanishing gradients: clipping, and the RNN's step Jacobian."""
import numpy as np

from rnn import rnn_cell_forward


def clip_by_value(grads, max_value):
    """Clip every gradient entry into [-max_value, max_value].

    Shapes: grads maps names to arrays. Returns a new dict of new arrays with
    the same keys and shapes; the input dict and its arrays are not changed.
    """
    # TODO: np.clip each array into a new dict; never clip in place
    raise NotImplementedError('np.clip each array into a new dict; never clip in place')


def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together when their joint 2-norm exceeds max_norm.

    global_norm = sqrt(sum of squares of every entry of every array)
    if global_norm > max_norm: each array is multiplied by max_norm / global_norm

    Returns (clipped, global_norm): clipped is a new dict of new arrays (copies
    when nothing is scaled), global_norm a float. Scaling all arrays by one
    factor keeps the gradient's direction, unlike clipping each array alone.
    """
    # TODO: one norm over all arrays together, then one common scale factor
    raise NotImplementedError('one norm over all arrays together, then one common scale factor')


def rnn_step_jacobian(h_next, params):
    """Jacobian of one RNN step with respect to the previous state, one example.

    dh_next/dh_prev = diag(1 - h_next**2) @ Wh[:, :n_h]

    Shapes: h_next (n_h, 1), params["Wh"] (n_h, n_h + n_x). Returns (n_h, n_h).
    The factor 1 - h_next**2 is tanh's derivative: near 0 when h saturates.
    """
    # TODO: only the first n_h columns of Wh act on h_prev
    raise NotImplementedError('only the first n_h columns of Wh act on h_prev')


def gradient_norms_through_time(x, h0, params):
    """How strongly the last state depends on each earlier state, one example.

    entry k = Frobenius norm of dh<T>/dh<k>, for k = 0 .. T-1, in the lesson's
    step numbers: h<0> = h0, and h<t> (t = 1..T) is the RNN state after step
    t, which is rnn_forward(x, h0, params)[:, :, t-1] in code (code counts
    steps from 0). dh<T>/dh<k> is the product of the step Jacobians of steps
    k+1 .. T; entry T-1 is one Jacobian, entry 0 reaches back to h0.

    Shapes: x (n_x, 1, T), h0 (n_h, 1): one example (m = 1). Returns a 1-D
    array of shape (T,). With small weights it shrinks geometrically as k moves
    away from T: the vanishing gradient.
    """
    # TODO: run the RNN, then multiply step Jacobians backwards from T
    raise NotImplementedError('run the RNN, then multiply step Jacobians backwards from T')
