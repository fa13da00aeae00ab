import numpy as np

def clip_by_value(grads, max_value):
    return grads


def clip_by_global_norm(grads, max_norm):
    return grads, max_norm


def rnn_step_jacobian(h_next, params):
    return h_next


def gradient_norms_through_time(x, h0, params):
    return x
