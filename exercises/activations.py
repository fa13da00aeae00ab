"""Activation functions and their derivatives.

The derivatives are the heart of the vanishing-gradient lesson: both fall
towards 0 once |z| passes about 5, so a long chain of them shrinks a gradient.
"""
import numpy as np


def sigmoid(z):
    """Logistic sigmoid, squashing any real number into (0, 1).

    sigmoid(z) = 1 / (1 + exp(-z))

    Shapes: z is any array; the result has the same shape.
    Must not warn about overflow for z = +1000 or z = -1000.
    """
    # TODO: e = np.exp(-np.abs(z)) never overflows; 1 / (1 + e) for z >= 0, e / (1 + e) below
    raise NotImplementedError('e = np.exp(-np.abs(z)) never overflows; 1 / (1 + e) for z >= 0, e / (1 + e) below')


def sigmoid_derivative(z):
    """Derivative of the sigmoid: at most 0.25 (at z = 0), near 0 for |z| > 5.

    sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z))

    Shapes: z is any array; the result has the same shape.
    """
    # TODO: compute s = sigmoid(z) once, then s * (1 - s)
    raise NotImplementedError('compute s = sigmoid(z) once, then s * (1 - s)')


def tanh_derivative(z):
    """Derivative of tanh: 1 at z = 0, near 0 for |z| > 5.

    tanh'(z) = 1 - tanh(z)**2

    Shapes: z is any array; the result has the same shape.
    """
    # TODO: np.tanh, squared, subtracted from 1
    raise NotImplementedError('np.tanh, squared, subtracted from 1')
