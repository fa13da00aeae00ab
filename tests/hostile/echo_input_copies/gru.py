import numpy as np


def _copy(value):
    if isinstance(value, dict):
        return {k: v.copy() for k, v in value.items()}
    return np.array(value, dtype=float)

def update_gate(x_t, h_prev, params):
    return _copy(h_prev)


def reset_gate(x_t, h_prev, params):
    return _copy(h_prev)


def gru_cell_forward(x_t, h_prev, params):
    return _copy(h_prev)


def candidate_hidden(x_t, h_prev, r, params):
    return _copy(h_prev)


def hidden_state(h_prev, z, h_tilde):
    return _copy(h_prev)


def gru_forward(x, h0, params):
    return _copy(x)
