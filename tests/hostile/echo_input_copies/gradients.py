import numpy as np


def _copy(value):
    if isinstance(value, dict):
        return {k: v.copy() for k, v in value.items()}
    return np.array(value, dtype=float)

def clip_by_value(grads, max_value):
    return _copy(grads)


def clip_by_global_norm(grads, max_norm):
    return _copy(grads), _copy(max_norm)


def rnn_step_jacobian(h_next, params):
    return _copy(h_next)


def gradient_norms_through_time(x, h0, params):
    return _copy(x)
