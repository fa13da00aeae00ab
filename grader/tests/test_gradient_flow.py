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


def _course_params(cell: str, rng: np.random.Generator) -> dict:
    """The course's small weights (0.8 / sqrt(n_h + n_x)); the gated cells start keeping (bf = +3, bz = -3)."""
    params = {}
    for gate in {"rnn": "h", "lstm": "fico", "gru": "zrh"}[cell]:
        params["W" + gate] = rng.normal(0.0, 0.8 / np.sqrt(N_H + N_X), (N_H, N_H + N_X))
        params["b" + gate] = rng.normal(0.0, 0.4, (N_H, 1))
    if cell == "lstm":
        params["bf"] = params["bf"] + 3.0
    if cell == "gru":
        params["bz"] = params["bz"] - 3.0
    return params


@pytest.mark.grades("gradients.state_gradient_norms")
@pytest.mark.points(0)  # a view of the student's own code: random norms could meet its claim, so it pays nothing
@pytest.mark.visibility("visible")
def test_the_three_cells_side_by_side(student, note):
    """Side by side, with your own code: the gradient that reaches each earlier step, for the three cells.

    One sequence of 30 steps, the course's small weights; the LSTM starts with bf = +3 and the GRU with
    bz = -3 (both start out keeping). Your state_gradient_norms, as you wrote it, for each cell: the RNN's
    gradient at step 0 should be below a millionth of both gated cells'. For you to compare, worth no points:
    state_gradient_norms earns its points on its cases."""
    rng = np.random.default_rng(13)
    steps = 30
    x, h0 = rng.normal(size=(N_X, 1, steps)), np.tanh(rng.normal(size=(N_H, 1)))
    norms = {cell: np.asarray(student.as_written.gradients.state_gradient_norms(cell, x, h0, _course_params(cell, rng)))
             for cell in ("rnn", "lstm", "gru")}
    rows = [f"  {'k':>3}  {'rnn':>9}  {'lstm':>9}  {'gru':>9}"]
    rows += [f"  {k:>3}  " + "  ".join(f"{float(norms[cell][k]):9.2e}" for cell in norms) for k in (29, 25, 20, 15, 10, 5, 0)]
    note("||dL/dh<k>|| for L = sum(h<30>), from your own state_gradient_norms:\n" + "\n".join(rows))
    assert all(v.shape == (steps,) for v in norms.values()), "each cell's norms must have shape (T,) = (30,)"
    assert norms["rnn"][0] < 1e-6 * min(norms["lstm"][0], norms["gru"][0]), (
        "The plain RNN's gradient at step 0 should be far below the gated cells' (a millionth or less); with your "
        "code it is not. Check each cell's backward step in state_gradient_norms.")
