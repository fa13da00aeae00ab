import numpy as np


def _copy(value):
    if isinstance(value, dict):
        return {k: v.copy() for k, v in value.items()}
    return np.array(value, dtype=float)

def sigmoid(z):
    return _copy(z)


def sigmoid_derivative(z):
    return _copy(z)


def tanh_derivative(z):
    return _copy(z)
