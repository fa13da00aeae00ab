"""Training a recurrent cell on one task: softmax, cross-entropy, and one step of clipped gradient descent.

The task the course trains on (see train_step): a sequence of T = 20 steps
whose first step shows one of K symbols and whose other steps show random
distractor symbols; the label is the first symbol. To answer, the cell must
carry one symbol across 20 steps. With the same settings an LSTM and a GRU
learn it, and a plain RNN stays near chance: its gradient from the last step
has all but vanished by the time it reaches the first (see
gradients.state_gradient_norms).
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
    # TODO: z - z.max(axis=0, keepdims=True), then exp, then divide by the column sums
    raise NotImplementedError('z - z.max(axis=0, keepdims=True), then exp, then divide by the column sums')


def cross_entropy(logits, y):
    """Mean cross-entropy of integer labels under the softmax of logits, and its gradient.

    loss = mean over j of -log softmax(logits)[y[j], j]
    dlogits = (softmax(logits) - one_hot(y)) / m

    Shapes: logits (K, m), y (m,) integers in 0 .. K-1. Returns (loss, dlogits):
    loss a float, dlogits (K, m). -log softmax is z's log-sum-exp minus z[y]:
    computed that way it stays finite where softmax rounds to 0.
    """
    # TODO: log softmax = shifted - log(sum(exp(shifted))); index it with [y, np.arange(m)]
    raise NotImplementedError('log softmax = shifted - log(sum(exp(shifted))); index it with [y, np.arange(m)]')


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
    # TODO: the backward pass returns dx and dh0 too: sgd_step needs only the parameters' gradients
    raise NotImplementedError("the backward pass returns dx and dh0 too: sgd_step needs only the parameters' gradients")
