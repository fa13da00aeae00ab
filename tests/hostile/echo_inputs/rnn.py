import numpy as np

def rnn_cell_forward(x_t, h_prev, params):
    return h_prev


def rnn_forward(x, h0, params):
    return x
