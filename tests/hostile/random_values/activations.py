import numpy as np

def sigmoid(z):
    return np.random.default_rng(0).normal(size=z.shape)


def sigmoid_derivative(z):
    return np.random.default_rng(0).normal(size=z.shape)


def tanh_derivative(z):
    return np.random.default_rng(0).normal(size=z.shape)
