"""Exploding and vanishing gradients: clipping, and the RNN's step Jacobian."""
import numpy as np

from rnn import rnn_cell_forward


def clip_by_value(grads, max_value):
    """Clip every gradient entry into [-max_value, max_value].

    Shapes: grads maps names to arrays. Returns a new dict of new arrays with
    the same keys and shapes; the input dict and its arrays are not changed.
    """
    # BEGIN SOLUTION (hint: np.clip each array into a new dict; never clip in place)
    return {name: np.clip(g, -max_value, max_value) for name, g in grads.items()}
    # END SOLUTION


def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together when their joint 2-norm exceeds max_norm.

    global_norm = sqrt(sum of squares of every entry of every array)
    if global_norm > max_norm: each array is multiplied by max_norm / global_norm

    Returns (clipped, global_norm): clipped is a new dict of new arrays (copies
    when nothing is scaled), global_norm a float. Scaling all arrays by one
    factor keeps the gradient's direction, unlike clipping each array alone.
    """
    # BEGIN SOLUTION (hint: one norm over all arrays together, then one common scale factor)
    global_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    scale = max_norm / global_norm if global_norm > max_norm else 1.0
    return {name: g * scale for name, g in grads.items()}, global_norm
    # END SOLUTION


def rnn_step_jacobian(h_next, params):
    """Jacobian of one RNN step with respect to the previous state, one example.

    dh_next/dh_prev = diag(1 - h_next**2) @ Wh[:, :n_h]

    Shapes: h_next (n_h, 1), params["Wh"] (n_h, n_h + n_x). Returns (n_h, n_h).
    The factor 1 - h_next**2 is tanh's derivative: near 0 when h saturates.
    """
    # BEGIN SOLUTION (hint: only the first n_h columns of Wh act on h_prev)
    n_h = h_next.shape[0]
    return (1.0 - h_next ** 2) * params["Wh"][:, :n_h]
    # END SOLUTION


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
    # BEGIN SOLUTION (hint: run the RNN, then multiply step Jacobians backwards from T)
    T = x.shape[2]
    states = [h0]
    for t in range(T):
        states.append(rnn_cell_forward(x[:, :, t], states[-1], params))
    norms = np.zeros(T)
    product = np.eye(h0.shape[0])
    for k in range(T - 1, -1, -1):
        product = product @ rnn_step_jacobian(states[k + 1], params)
        norms[k] = np.linalg.norm(product)
    return norms
    # END SOLUTION
