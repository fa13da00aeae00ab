import numpy as np

def clip_by_value(grads, max_value):
    return {k: np.random.default_rng(0).normal(size=g.shape) for k, g in grads.items()}


def clip_by_global_norm(grads, max_norm):
    return {k: np.random.default_rng(0).normal(size=g.shape) for k, g in grads.items()}, float(np.random.default_rng(1).normal())


def rnn_step_jacobian(h_next, params):
    return np.random.default_rng(0).normal(size=(h_next.shape[0], h_next.shape[0]))


def gradient_norms_through_time(x, h0, params):
    return np.random.default_rng(0).normal(size=x.shape[2:])
