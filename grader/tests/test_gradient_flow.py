"""Gradient flow where the answer is known in closed form: the student's state_gradient_norms and
cell_gradient_norms against formulas, with no reference involved."""
import numpy as np
import pytest

N_X, N_H, T = 3, 4, 12


@pytest.mark.grades("gradients.state_gradient_norms")
@pytest.mark.points(2)
@pytest.mark.visibility("visible")
def test_rnn_gradient_falls_or_grows_as_rho_to_the_distance(student, close):
    """The RNN's gradient falls (or grows) as rho to the distance, with recurrent weights rho times a rotation.

    Recurrent weights rho times an orthogonal matrix, zero inputs, biases and h0: every state stays 0, so tanh' is 1 and ||dL/dh<k>|| = rho**(T-k) * sqrt(n_h), exactly. Below 1 the
    gradient vanishes geometrically, above 1 it explodes."""
    rng = np.random.default_rng(11)
    q, _ = np.linalg.qr(rng.normal(size=(N_H, N_H)))
    for rho in (0.5, 1.3):
        params = {"Wh": np.hstack([rho * q, rng.normal(size=(N_H, N_X))]), "bh": np.zeros((N_H, 1))}
        norms = student.gradients.state_gradient_norms("rnn", np.zeros((N_X, 1, T)), np.zeros((N_H, 1)), params)
        close(norms, rho ** (T - np.arange(T)) * np.sqrt(N_H), what=f"the RNN's norms with rho = {rho}")


@pytest.mark.grades("gradients.cell_gradient_norms")
@pytest.mark.points(2)
@pytest.mark.visibility("visible")
def test_lstm_cell_gradient_falls_as_the_forget_gate(student, close):
    """Along the LSTM's cell state the gradient falls by the forget gate, step by step.

    Every weight on h zero, Wf = 0 and bf = b: f = sigmoid(b) at every step, so each step back
    along the cell state multiplies dL/dc by sigmoid(b): norms[k] / norms[k+1] = sigmoid(b). With b = 4 the
    gradient keeps 98% per step; with b = -1, 27%."""
    rng = np.random.default_rng(12)
    for b in (-1.0, 4.0):
        params = {}
        for gate in "fico":
            params["W" + gate] = np.hstack([np.zeros((N_H, N_H)), rng.normal(size=(N_H, N_X))])
            params["b" + gate] = rng.normal(size=(N_H, 1))
        params["Wf"], params["bf"] = np.zeros((N_H, N_H + N_X)), np.full((N_H, 1), b)
        x, h0 = rng.normal(size=(N_X, 1, T)), np.tanh(rng.normal(size=(N_H, 1)))
        norms = student.gradients.cell_gradient_norms(x, h0, params)
        ratios = norms[:-1] / np.where(norms[1:] == 0, np.nan, norms[1:])
        close(ratios, np.full(T - 1, 1 / (1 + np.exp(-b))), what=f"norms[k] / norms[k+1] with bf = {b}")
