import numpy as np

def clip_by_value(grads, max_value):
    return {k: np.zeros(g.shape) for k, g in grads.items()}


def clip_by_global_norm(grads, max_norm):
    return {k: np.zeros(g.shape) for k, g in grads.items()}, 0.0


def rnn_step_jacobian(h_next, params):
    return np.zeros((h_next.shape[0], h_next.shape[0]))


def gradient_norms_through_time(x, h0, params):
    return np.zeros(x.shape[2:])
