import numpy as np

def sigmoid(z):
    return np.full(z.shape, 0.5)


def sigmoid_derivative(z):
    return np.full(z.shape, 0.5)


def tanh_derivative(z):
    return np.full(z.shape, 0.5)
