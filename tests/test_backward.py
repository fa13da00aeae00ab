"""The reference's backward passes, gradient flow and training, checked without the reference's own arithmetic:
against an independent autograd (HIPS autograd, on forward passes written here again), against closed forms of
gradient flow, and by the training outcome the course claims (the LSTM and the GRU learn to carry a symbol
across 20 steps; the plain RNN does not)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from gatelab.grading.reference import Reference

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("activations", "rnn", "lstm", "gru", "gradients", "training")
GATES = {"rnn": "h", "lstm": "fico", "gru": "zrh"}
N_X, N_H, M, T = 3, 4, 5, 6


@pytest.fixture(scope="module")
def ref():
    """The shipped reference modules, loaded as the grader loads them (by plain name, then out of sys.modules)."""
    return Reference(ROOT / "solutions", MODULES).modules


def _params(cell: str, rng: np.random.Generator, scale: float = 1.5) -> dict:
    params = {}
    for gate in GATES[cell]:
        params["W" + gate] = rng.normal(0, scale / np.sqrt(N_H + N_X), (N_H, N_H + N_X))
        params["b" + gate] = rng.normal(0, 0.5 * scale, (N_H, 1))
    return params


# --- the forward passes again, in autograd's numpy (no in-place writes), independent of solutions/ ---------

def _steps(cell: str, anp, x, h0, p):
    """Every step's hidden state (and the LSTM's cell state), as lists."""
    sig = lambda z: 1 / (1 + anp.exp(-z))  # noqa: E731
    h, c, hs, cs = h0, anp.zeros(h0.shape), [], []
    for t in range(x.shape[2]):
        xt = x[:, :, t]
        both = anp.concatenate([h, xt], axis=0)
        if cell == "rnn":
            h = anp.tanh(anp.dot(p["Wh"], both) + p["bh"])
        elif cell == "lstm":
            f, i = sig(anp.dot(p["Wf"], both) + p["bf"]), sig(anp.dot(p["Wi"], both) + p["bi"])
            o, g = sig(anp.dot(p["Wo"], both) + p["bo"]), anp.tanh(anp.dot(p["Wc"], both) + p["bc"])
            c = f * c + i * g
            h = o * anp.tanh(c)
        else:
            z, r = sig(anp.dot(p["Wz"], both) + p["bz"]), sig(anp.dot(p["Wr"], both) + p["br"])
            g = anp.tanh(anp.dot(p["Wh"], anp.concatenate([r * h, xt], axis=0)) + p["bh"])
            h = z * g + (1 - z) * h
        hs.append(h)
        cs.append(c)
    return hs, cs


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sequence_backward_passes_agree_with_autograd(ref, cell):
    """rnn_backward, lstm_backward, gru_backward: every gradient of L = sum(dh * h) is autograd's."""
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    rng = np.random.default_rng(1)
    x, h0 = rng.normal(size=(N_X, M, T)), np.tanh(rng.normal(size=(N_H, M)))
    params, dh = _params(cell, rng), rng.normal(size=(N_H, M, T))

    def loss(inputs):
        hs, _ = _steps(cell, anp, inputs["x"], inputs["h0"], inputs)
        return sum(anp.sum(dh[:, :, t] * hs[t]) for t in range(T))

    expected = autograd.grad(loss)({"x": x, "h0": h0, **params})
    got = getattr(ref[cell], f"{cell}_backward")(dh, x, h0, params)
    assert set(got) == {"d" + key for key in expected}
    for key, value in expected.items():
        np.testing.assert_allclose(got["d" + key], value, rtol=1e-9, atol=1e-12, err_msg=f"{cell} d{key}")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cell_backward_passes_agree_with_autograd(ref, cell):
    """One step: rnn_cell_backward, lstm_cell_backward (with dc_next), gru_cell_backward are autograd's."""
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    rng = np.random.default_rng(2)
    x_t, h_prev, c_prev = rng.normal(size=(N_X, M)), np.tanh(rng.normal(size=(N_H, M))), rng.normal(size=(N_H, M))
    params, dh_next, dc_next = _params(cell, rng), rng.normal(size=(N_H, M)), rng.normal(size=(N_H, M))

    def loss(inputs):
        if cell != "lstm":
            hs, _ = _steps(cell, anp, inputs["x_t"][:, :, None], inputs["h_prev"], inputs)
            return anp.sum(dh_next * hs[0])
        sig = lambda z: 1 / (1 + anp.exp(-z))  # noqa: E731
        both = anp.concatenate([inputs["h_prev"], inputs["x_t"]], axis=0)
        gate = lambda g, f=sig: f(anp.dot(inputs["W" + g], both) + inputs["b" + g])  # noqa: E731
        c = gate("f") * inputs["c_prev"] + gate("i") * gate("c", anp.tanh)
        return anp.sum(dh_next * gate("o") * anp.tanh(c)) + anp.sum(dc_next * c)

    inputs = {"x_t": x_t, "h_prev": h_prev, **({"c_prev": c_prev} if cell == "lstm" else {}), **params}
    expected = autograd.grad(loss)(inputs)
    backward = getattr(ref[cell], f"{cell}_cell_backward")
    got = backward(dh_next, dc_next, x_t, h_prev, c_prev, params) if cell == "lstm" else \
        backward(dh_next, x_t, h_prev, params)
    assert set(got) == {"d" + key for key in expected}
    for key, value in expected.items():
        np.testing.assert_allclose(got["d" + key], value, rtol=1e-9, atol=1e-12, err_msg=f"{cell} d{key}")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_training_step_is_autograds_descent(ref, cell):
    """train_step without clipping moves every parameter by -lr times autograd's gradient of the mean
    cross-entropy of Wy h<T> + by, and reports that loss."""
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    rng = np.random.default_rng(3)
    K = 4
    x, y = rng.normal(size=(N_X, M, T)), rng.integers(0, K, M)
    params = {**_params(cell, rng), "Wy": rng.normal(size=(K, N_H)) / 2, "by": rng.normal(size=(K, 1))}

    def loss(p):
        hs, _ = _steps(cell, anp, x, anp.zeros((N_H, M)), p)
        logits = anp.dot(p["Wy"], hs[-1]) + p["by"]
        top = anp.max(logits, axis=0, keepdims=True)
        log_probs = logits - top - anp.log(anp.sum(anp.exp(logits - top), axis=0, keepdims=True))
        return -anp.mean(log_probs[y, np.arange(M)])

    lr = 0.1
    new, reported = ref["training"].train_step(cell, params, x, y, lr, 1e9)
    expected = autograd.grad(loss)(params)
    assert reported == pytest.approx(float(loss(params)), rel=1e-12)
    for key in params:
        np.testing.assert_allclose((params[key] - new[key]) / lr, expected[key], rtol=1e-7, atol=1e-10,
                                   err_msg=f"{cell} {key}")


def test_softmax_and_cross_entropy_stay_finite_and_agree_with_autograd(ref):
    """No overflow at +-1000, and dlogits is autograd's gradient of the mean cross-entropy."""
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    training = ref["training"]
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # exp(-2000) may underflow to 0: harmless
        probs = training.softmax(np.array([[1000.0, -1000.0], [0.0, 0.0]]))
        loss, _ = training.cross_entropy(np.array([[1000.0, -1000.0], [0.0, 0.0]]), np.array([1, 0]))
    np.testing.assert_allclose(probs, [[1, 0], [0, 1]])
    assert loss == pytest.approx(1000.0)
    rng = np.random.default_rng(4)
    logits, y = rng.normal(size=(5, 7)), rng.integers(0, 5, 7)

    def mean_ce(z):
        top = anp.max(z, axis=0, keepdims=True)
        return -anp.mean((z - top - anp.log(anp.sum(anp.exp(z - top), axis=0, keepdims=True)))[y, np.arange(7)])

    loss, dlogits = training.cross_entropy(logits, y)
    assert loss == pytest.approx(float(mean_ce(logits)), rel=1e-12)
    np.testing.assert_allclose(dlogits, autograd.grad(mean_ce)(logits), rtol=1e-10, atol=1e-14)


# --- gradient flow in closed form -------------------------------------------------------------------------

def test_the_rnn_norms_are_rho_to_the_distance_with_an_orthogonal_recurrence(ref):
    """W = rho Q with Q orthogonal, zero inputs, biases and h0: every state is 0, tanh' is 1, so
    ||dL/dh<k>|| = rho**(T-k) * sqrt(n_h) exactly, for rho below and above 1."""
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(N_H, N_H)))
    T_long = 12
    for rho in (0.5, 0.9, 1.3):
        params = {"Wh": np.hstack([rho * q, rng.normal(size=(N_H, N_X))]), "bh": np.zeros((N_H, 1))}
        norms = ref["gradients"].state_gradient_norms("rnn", np.zeros((N_X, 1, T_long)), np.zeros((N_H, 1)), params)
        np.testing.assert_allclose(norms, rho ** (T_long - np.arange(T_long)) * np.sqrt(N_H), rtol=1e-12)


def test_the_lstm_cell_gradient_shrinks_as_the_forget_gate_to_the_distance(ref):
    """With every weight on h zero and Wf = 0, bf = b: f = sigmoid(b) at every step and h<k> reaches the loss
    only through c, so dL/dc<k> = sigmoid(b) * dL/dc<k+1>: the norms fall as sigmoid(b)**(T-k)."""
    rng = np.random.default_rng(6)
    T_long = 15
    for b in (-1.0, 2.0, 6.0):
        params = _params("lstm", rng)
        for gate in "fico":
            params["W" + gate][:, :N_H] = 0.0
        params["Wf"][:] = 0.0
        params["bf"] = np.full((N_H, 1), b)
        x, h0 = rng.normal(size=(N_X, 1, T_long)), np.tanh(rng.normal(size=(N_H, 1)))
        norms = ref["gradients"].cell_gradient_norms(x, h0, params)
        forget = 1 / (1 + np.exp(-b))
        np.testing.assert_allclose(norms[:-1] / norms[1:], forget, rtol=1e-12)
        hidden = ref["gradients"].state_gradient_norms("lstm", x, h0, params)
        np.testing.assert_allclose(hidden, 0.0, atol=0)  # no weight reads h: nothing flows back through it


def test_gradient_flow_side_by_side_shows_the_claim(ref):
    """On one sequence of 30 steps with the course's small weights, the RNN's gradient reaching step 0 is a
    tiny fraction of the LSTM's and the GRU's: the lesson's claim, measured on the reference."""
    rng = np.random.default_rng(7)
    T_long = 30
    x, h0 = rng.normal(size=(N_X, 1, T_long)), np.tanh(rng.normal(size=(N_H, 1)))
    lstm_params, gru_params = _params("lstm", rng, 0.8), _params("gru", rng, 0.8)
    lstm_params["bf"] += 3.0
    gru_params["bz"] -= 3.0
    flow = {cell: ref["gradients"].state_gradient_norms(cell, x, h0, p)
            for cell, p in (("rnn", _params("rnn", rng, 0.8)), ("lstm", lstm_params), ("gru", gru_params))}
    assert flow["rnn"][0] < 1e-6 * min(flow["lstm"][0], flow["gru"][0])
    assert flow["rnn"][0] < 1e-6 * flow["rnn"][-1]


# --- the training outcome ---------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the course test's grading marks
def test_the_gated_cells_learn_to_remember_and_the_rnn_does_not(ref):
    """The run of grader/tests/test_training.py on the reference: the LSTM and the GRU name the first of 20
    symbols on unseen sequences (accuracy 0.95 or more), the plain RNN stays near chance (0.4 or less)."""
    spec = importlib.util.spec_from_file_location("course_training_run", ROOT / "grader" / "tests" / "test_training.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    shares = {}
    for cell in ("rnn", "lstm", "gru"):
        params, losses = run.trained(ref["training"].train_step, cell)
        shares[cell] = run.accuracy(getattr(ref[cell], f"{cell}_forward"), cell, params)
    assert shares["lstm"] >= 0.95 and shares["gru"] >= 0.95, shares
    assert shares["rnn"] <= 0.4, shares


# --- what a student reads: the gradient check, the catalog and the training run, on the shipped course -----

def _submission(tmp_path: Path, changes: dict[str, list[tuple[str, str]]]) -> Path:
    """The shipped reference (no answer key), with ``old`` replaced by ``new`` in the named modules."""
    from conftest import write_submission

    return write_submission(tmp_path / "submission", changes, course=ROOT)


@pytest.fixture(scope="module")
def shipped():
    from gatelab.course import config

    return config.load(ROOT)


def _failing(results, function: str) -> str:
    return "\n".join(t.feedback for t in results.tests if t.function == function and not t.passed)


def test_a_wrong_backward_is_told_it_disagrees_with_its_own_forward(shipped, tmp_path):
    """tanh' taken at h_prev: the gradient check names every gradient that is not the derivative of the
    student's own forward, and the catalog names the mistake."""
    from gatelab import grading

    folder = _submission(tmp_path, {"rnn": [("da = dh_next * (1.0 - h_next ** 2)",
                                              "da = dh_next * (1.0 - h_prev ** 2)")]})
    results = grading.grade(shipped, folder, grading.Request(target="rnn.rnn_cell_backward", quiz="none"))
    said = _failing(results, "rnn.rnn_cell_backward")
    assert "dx_t, dh_prev, dWh, dbh are not the derivative of your forward pass" in said
    assert "the mistake is in the backward pass" in said
    assert "rnn-cell-backward-tanh-prime-at-h-prev" in said


def test_a_backward_true_to_a_wrong_forward_is_told_to_fix_the_forward(shipped, tmp_path):
    """[x_t; h_prev] in the forward and the matching split in the backward: the check says the backward is the
    exact derivative of the student's forward, and that the forward fails its own tests."""
    from gatelab import grading

    folder = _submission(tmp_path, {"rnn": [
        ("    concat = np.concatenate([h_prev, x_t], axis=0)\n    return np.tanh",
         "    concat = np.concatenate([x_t, h_prev], axis=0)\n    return np.tanh"),
        ('    concat = np.concatenate([h_prev, x_t], axis=0)\n    h_next = rnn_cell_forward(x_t, h_prev, params)',
         '    n_x = x_t.shape[0]\n    concat = np.concatenate([x_t, h_prev], axis=0)\n'
         '    h_next = rnn_cell_forward(x_t, h_prev, params)'),
        ('"dx_t": dconcat[n_h:], "dh_prev": dconcat[:n_h]', '"dx_t": dconcat[:n_x], "dh_prev": dconcat[n_x:]')]})
    results = grading.grade(shipped, folder, grading.Request(target="rnn", quiz="none"))
    said = _failing(results, "rnn.rnn_cell_backward")
    assert "is the exact derivative of your forward pass" in said
    assert "rnn.rnn_cell_forward fails its own tests" in said


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
def test_the_training_run_pays_nothing_for_a_step_that_learns_nothing_and_sees_the_highway_cut(shipped, tmp_path):
    """A train_step that returns its params unchanged (and a loss of 0) loses the training run; an LSTM whose
    backward leaves dc_next out of dc trains to chance while the GRU learns, and the feedback shows it."""
    from gatelab import grading

    idle = _submission(tmp_path / "idle", {"training": [
        ('    forward = {"rnn": rnn_forward', '    return dict(params), 0.0\n    forward = {"rnn": rnn_forward')]})
    results = grading.grade(shipped, idle, grading.Request(target="training.train_step", quiz="none"))
    assert all(not t.passed for t in results.tests if t.function == "training.train_step")
    cut = _submission(tmp_path / "cut", {"lstm": [("dc = dc_next + dh_next * o * (1.0 - tc ** 2)",
                                                             "dc = dh_next * o * (1.0 - tc ** 2)")]})
    results = grading.grade(shipped, cut, grading.Request(target="training.train_step", quiz="none"))
    run = [t for t in results.tests if t.function == "training.train_step" and "remember" in t.name]
    assert len(run) == 1 and not run[0].passed
    assert "lstm did not learn" in run[0].feedback and "gru   loss" in run[0].feedback
    exact = [t for t in results.tests if t.function == "training.train_step" and t is not run[0]]
    assert exact and all(t.passed for t in exact)  # train_step's own work, with the grader's parts, is right
