"""Wrong activation formulas students write: each returns what the mistaken code returns."""
import numpy as np


def sigmoid_sign_flipped(ref, z):
    # 1 / (1 + np.exp(z)): the minus sign in the exponent is lost (computed stably here).
    return ref.activations.sigmoid(-np.asarray(z, dtype=np.float64))


def sigmoid_positive_branch_only(ref, z):
    # The stable form's exp(-|z|), but the z >= 0 branch used for every z.
    e = np.exp(-np.abs(z))
    return 1.0 / (1.0 + e)


def sigmoid_tanh_without_half(ref, z):
    # sigmoid(z) = (1 + tanh(z / 2)) / 2, written without the z / 2.
    return 0.5 * (1.0 + np.tanh(z))


def sigmoid_precedence(ref, z):
    # 1 / 1 + np.exp(-z): the division happens before the addition.
    with np.errstate(over="ignore"):
        return 1 / 1 + np.exp(-z)


def sigmoid_derivative_plus(ref, z):
    s = ref.activations.sigmoid(z)
    return s * (1.0 + s)


def sigmoid_derivative_of_z(ref, z):
    # s * (1 - s) with z in place of s = sigmoid(z).
    return z * (1.0 - z)


def sigmoid_derivative_tanh_form(ref, z):
    # tanh's 1 - y**2 applied to the sigmoid.
    s = ref.activations.sigmoid(z)
    return 1.0 - s ** 2


def tanh_derivative_of_z(ref, z):
    return 1.0 - z ** 2


def tanh_derivative_no_square(ref, z):
    return 1.0 - np.tanh(z)


def tanh_derivative_square_outside(ref, z):
    return (1.0 - np.tanh(z)) ** 2


def tanh_derivative_sigmoid_form(ref, z):
    # the sigmoid's y * (1 - y) applied to tanh.
    t = np.tanh(z)
    return t * (1.0 - t)


def sigmoid_derivative_negated(ref, z):
    s = ref.activations.sigmoid(z)
    return s * (s - 1.0)


def tanh_derivative_square_inside(ref, z):
    return 1.0 - np.tanh(z ** 2)
