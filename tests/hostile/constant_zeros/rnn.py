import numpy as np

def rnn_cell_forward(x_t, h_prev, params):
    return np.zeros(h_prev.shape)


def rnn_forward(x, h0, params):
    return np.zeros(h0.shape + x.shape[2:])
