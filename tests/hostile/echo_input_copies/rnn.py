import numpy as np


def _copy(value):
    if isinstance(value, dict):
        return {k: v.copy() for k, v in value.items()}
    return np.array(value, dtype=float)

def rnn_cell_forward(x_t, h_prev, params):
    return _copy(h_prev)


def rnn_forward(x, h0, params):
    return _copy(x)
