"""Training a recurrent cell on one task: softmax, cross-entropy, and one step of clipped gradient descent.

The task the course trains on (grader/tests/test_training.py): sequences of
T = 20 steps whose first step shows one of K = 4 symbols (one-hot, with a
start flag: n_x = 5) and whose other 19 steps show random distractor
symbols; the label is the first symbol. To answer, a cell must carry one
symbol across 20 steps. Each cell (n_h = 8) starts from small random
weights; the LSTM starts keeping and barely writing (bf = +3, bi = -3), the
GRU barely taking new content (bz = -3). 600 calls of train_step on fresh
batches of 32, lr = 1.0, max_norm = 1.0: the LSTM and the GRU name the first
symbol of unseen sequences (the reference: accuracy 1.0), the plain RNN stays
near chance (0.25): its gradient from the last step has all but vanished by
the first (see gradients.state_gradient_norms).
"""
import numpy as np

from gradients import sgd_step
from gru import gru_backward, gru_forward
from lstm import lstm_backward, lstm_forward
from rnn import rnn_backward, rnn_forward


def softmax(z):
    """Column-wise softmax: each column of z becomes probabilities that sum to 1.

    softmax(z)[k, j] = exp(z[k, j]) / sum over k' of exp(z[k', j])

    Shapes: z (K, m), one column per example. Returns (K, m). Must not overflow
    for entries of +1000 or -1000: subtracting a column's maximum from it
    changes nothing in the result and keeps every exp at most 1.
    """
    # BEGIN SOLUTION (hint: z - z.max(axis=0, keepdims=True), then exp, then divide by the column sums)
    shifted = np.exp(z - np.max(z, axis=0, keepdims=True))
    return shifted / np.sum(shifted, axis=0, keepdims=True)
    # END SOLUTION


def cross_entropy(logits, y):
    """Mean cross-entropy of integer labels under the softmax of logits, and its gradient.

    loss = mean over j of -log softmax(logits)[y[j], j]
    dlogits = (softmax(logits) - one_hot(y)) / m

    Shapes: logits (K, m), y (m,) integers in 0 .. K-1. Returns (loss, dlogits):
    loss a float, dlogits (K, m). -log softmax is z's log-sum-exp minus z[y]:
    computed that way it stays finite where softmax rounds to 0.
    """
    # BEGIN SOLUTION (hint: log softmax = shifted - log(sum(exp(shifted))); index it with [y, np.arange(m)])
    m = logits.shape[1]
    shifted = logits - np.max(logits, axis=0, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    columns = np.arange(m)
    loss = float(-np.mean(log_probs[y, columns]))
    dlogits = np.exp(log_probs)
    dlogits[y, columns] -= 1.0
    return loss, dlogits / m
    # END SOLUTION


def train_step(cell, params, x, y, lr, max_norm):
    """One step of training: forward, loss on the last state, backward, clipped update.

    h = the cell's forward pass over x from h0 = 0 (and c0 = 0 for the LSTM)
    logits = Wy h<T> + by                  h<T> is h[:, :, -1]
    loss, dlogits = cross_entropy(logits, y)
    dWy = dlogits @ h<T>.T, dby = dlogits summed over the batch
    dh = zeros (n_h, m, T), with dh[:, :, -1] = Wy.T @ dlogits: the loss reads only h<T>
    the cell's own backward pass (rnn_backward, lstm_backward or gru_backward) gives its gradients
    new_params = sgd_step(params, every parameter's gradient, lr, max_norm)

    cell is "rnn", "lstm" or "gru"; params holds that cell's parameters and Wy
    (K, n_h), by (K, 1). Shapes: x (n_x, m, T), y (m,) integer labels.
    Returns (new_params, loss): a new dict, and the loss before the update.
    """
    # BEGIN SOLUTION (hint: the backward pass returns dx and dh0 too: sgd_step needs only the parameters' gradients)
    forward = {"rnn": rnn_forward, "lstm": lstm_forward, "gru": gru_forward}[cell]
    backward = {"rnn": rnn_backward, "lstm": lstm_backward, "gru": gru_backward}[cell]
    n_h, m = params["Wy"].shape[1], x.shape[1]
    h0 = np.zeros((n_h, m))
    cell_params = {key: value for key, value in params.items() if key not in ("Wy", "by")}
    h = forward(x, h0, cell_params)
    h = h[0] if cell == "lstm" else h
    h_last = h[:, :, -1]
    loss, dlogits = cross_entropy(params["Wy"] @ h_last + params["by"], y)
    dh = np.zeros_like(h)
    dh[:, :, -1] = params["Wy"].T @ dlogits
    grads = {key: value for key, value in backward(dh, x, h0, cell_params).items() if key not in ("dx", "dh0")}
    grads["dWy"] = dlogits @ h_last.T
    grads["dby"] = np.sum(dlogits, axis=1, keepdims=True)
    return sgd_step(params, grads, lr, max_norm), loss
    # END SOLUTION
