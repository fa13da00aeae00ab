import numpy as np

def sigmoid(z):
    return np.zeros(z.shape)


def sigmoid_derivative(z):
    return np.zeros(z.shape)


def tanh_derivative(z):
    return np.zeros(z.shape)
