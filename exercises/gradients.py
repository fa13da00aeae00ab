"""Exploding and vanishing gradients: clipping, the RNN's step Jacobian, and the three cells' gradient flow."""
import numpy as np

from gru import gru_cell_backward, gru_forward
from lstm import lstm_cell_backward, lstm_forward
from rnn import rnn_cell_backward, rnn_cell_forward, rnn_forward


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


def state_gradient_norms(cell, x, h0, params):
    """How much of the gradient of L = sum(h<T>) reaches each earlier hidden state, for one cell.

    entry k = 2-norm of dL/dh<k>, k = 0 .. T-1, in the lesson's step numbers
    (h<0> = h0, h<t> the state after step t). cell is "rnn", "lstm" or "gru";
    params are that cell's. Going back one step is that cell's own backward
    step (rnn_cell_backward, lstm_cell_backward, gru_cell_backward) fed with
    the gradient on h<k+1>, starting from ones on h<T>. For the LSTM, dL/dh<k>
    is the gradient on h<k> with c<k> held fixed: its dh_prev, while dc_prev
    carries the rest back along the cell state (c<0> = 0).

    Shapes: x (n_x, 1, T), h0 (n_h, 1): one example. Returns a 1-D array (T,).
    Put the three cells' vectors side by side to see which keeps the gradient.
    """
    # TODO: run the cell forward, then its cell backward from k = T-1 down to 0, carrying dh (and dc)
    raise NotImplementedError('run the cell forward, then its cell backward from k = T-1 down to 0, carrying dh (and dc)')


def cell_gradient_norms(x, h0, params):
    """How much of the gradient of L = sum(h<T>) reaches each earlier LSTM cell state.

    entry k = 2-norm of dL/dc<k>, k = 0 .. T-1 (c<0> = 0, the first cell
    state): the dc_prev that lstm_cell_backward passes back, step by step.
    Along the cell state each step multiplies it by f, elementwise. With every
    weight on h zero (so nothing else reaches c), Wf = 0 and bf = b, each
    factor is sigmoid(b): the norms shrink by sigmoid(b) a step, slowly when b
    is large.

    Shapes: x (n_x, 1, T), h0 (n_h, 1): one example, LSTM params. Returns a
    1-D array (T,).
    """
    # TODO: the same backward loop as for the LSTM in state_gradient_norms; keep dc_prev's norms
    raise NotImplementedError("the same backward loop as for the LSTM in state_gradient_norms; keep dc_prev's norms")


def sgd_step(params, grads, lr, max_norm):
    """One step of gradient descent, after clipping the gradients by their global norm.

    clipped, _ = clip_by_global_norm(grads, max_norm)
    new[name] = params[name] - lr * clipped["d" + name]   for every parameter

    Shapes: params maps names to arrays; grads maps "d" + name to an array of
    the same shape. Returns a new dict; params and grads are not changed.
    """
    # TODO: clip with clip_by_global_norm first; the gradient of params["Wh"] is grads["dWh"]
    raise NotImplementedError('clip with clip_by_global_norm first; the gradient of params["Wh"] is grads["dWh"]')
