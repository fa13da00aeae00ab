"""Wrong vanilla-RNN formulas students write: each returns what the mistaken code returns."""
import numpy as np


def _stack(top, bottom):
    return np.concatenate([top, bottom], axis=0)


def concat_x_on_top(ref, x_t, h_prev, params):
    return np.tanh(params["Wh"] @ _stack(x_t, h_prev) + params["bh"])


def missing_bias(ref, x_t, h_prev, params):
    return np.tanh(params["Wh"] @ _stack(h_prev, x_t))


def sigmoid_for_tanh(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(params["Wh"] @ _stack(h_prev, x_t) + params["bh"])


def no_tanh(ref, x_t, h_prev, params):
    return params["Wh"] @ _stack(h_prev, x_t) + params["bh"]


def bias_after_tanh(ref, x_t, h_prev, params):
    return np.tanh(params["Wh"] @ _stack(h_prev, x_t)) + params["bh"]


def last_step_only(ref, x, h0, params):
    h_t = h0
    for t in range(x.shape[2]):
        h_t = ref.rnn.rnn_cell_forward(x[:, :, t], h_t, params)
    return h_t


def h0_every_step(ref, x, h0, params):
    n_h, m = h0.shape
    h = np.zeros((n_h, m, x.shape[2]))
    for t in range(x.shape[2]):
        h[:, :, t] = ref.rnn.rnn_cell_forward(x[:, :, t], h0, params)
    return h


def all_steps_at_index_zero(ref, x, h0, params):
    n_h, m = h0.shape
    h = np.zeros((n_h, m, x.shape[2]))
    h_t = h0
    for t in range(x.shape[2]):
        h_t = ref.rnn.rnn_cell_forward(x[:, :, t], h_t, params)
        h[:, :, 0] = h_t
    return h


def float32_buffer(ref, x, h0, params):
    n_h, m = h0.shape
    h = np.zeros((n_h, m, x.shape[2]), dtype=np.float32)
    h_t = h0
    for t in range(x.shape[2]):
        h_t = ref.rnn.rnn_cell_forward(x[:, :, t], h_t, params)
        h[:, :, t] = h_t
    return h
