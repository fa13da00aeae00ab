import numpy as np

def sigmoid(z):
    return z


def sigmoid_derivative(z):
    return z


def tanh_derivative(z):
    return z
