"""training: softmax, cross-entropy and one training step on the cases of grader/config.yaml; and a training
run of the student's own code, where the LSTM and the GRU learn to carry a symbol across 20 steps."""
import numpy as np
import pytest

# The task (solutions/training.py says the same): T = 20 steps; step 0 shows one of K symbols (one-hot) and a
# start flag, steps 1..19 show random distractor symbols; the label is the symbol of step 0.
K, T, N_H, M, STEPS, LR, MAX_NORM, BIAS = 4, 20, 8, 32, 600, 1.0, 1.0, 3.0
TAIL = 50  # the first and last steps whose mean loss the feedback shows
LEARNED = 0.9  # the accuracy a gated cell must reach on unseen sequences; chance is 1 / K
GATES = {"rnn": "h", "lstm": "fico", "gru": "zrh"}


def remember_first(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the task: x (K + 1, m, T), y (m,)."""
    symbols = rng.integers(0, K, (m, T))
    x = np.zeros((K + 1, m, T))
    x[symbols, np.arange(m)[:, None], np.arange(T)[None, :]] = 1.0
    x[K, :, 0] = 1.0
    return x, symbols[:, 0].copy()


def initial(cell: str, rng: np.random.Generator) -> dict:
    """Small random weights, zero biases; the LSTM keeps and barely writes at first (bf = +3, bi = -3), the GRU
    barely takes new content (bz = -3): the course's stated start, the same for every student."""
    n_in = N_H + K + 1
    params = {}
    for gate in GATES[cell]:
        params["W" + gate] = rng.normal(0.0, 1.0 / np.sqrt(n_in), (N_H, n_in))
        params["b" + gate] = np.zeros((N_H, 1))
    if cell == "lstm":
        params["bf"], params["bi"] = np.full((N_H, 1), BIAS), np.full((N_H, 1), -BIAS)
    if cell == "gru":
        params["bz"] = np.full((N_H, 1), -BIAS)
    params["Wy"] = rng.normal(0.0, 1.0 / np.sqrt(N_H), (K, N_H))
    params["by"] = np.zeros((K, 1))
    return params


def trained(train_step, cell: str) -> tuple[dict, list[float]]:
    """The parameters after STEPS steps of ``train_step`` on fresh batches from the course's start, and the
    losses it reported."""
    rng = np.random.default_rng(2026)
    params, losses = initial(cell, rng), []
    for _ in range(STEPS):
        x, y = remember_first(rng, M)
        params, loss = train_step(cell, params, x, y, LR, MAX_NORM)
        losses.append(float(loss))
    return params, losses


def accuracy(forward, cell: str, params: dict) -> float:
    """The share of 500 unseen sequences whose first symbol the trained cell names (argmax of Wy h<T> + by)."""
    x, y = remember_first(np.random.default_rng(99), 500)
    own = {key: value for key, value in params.items() if key not in ("Wy", "by")}
    h = forward(x, np.zeros((N_H, 500)), own)
    h = h[0] if cell == "lstm" else h  # lstm_forward returns (h, c)
    return float(np.mean(np.argmax(params["Wy"] @ h[:, :, -1] + params["by"], axis=0) == y))


@pytest.mark.grades("training")
def test_training(contract_test, grade):
    grade(contract_test)


@pytest.mark.grades("training.train_step")
@pytest.mark.points(3)
@pytest.mark.visibility("visible")
def test_gated_cells_remember_where_the_rnn_forgets(student):
    """Trained with your own code, the LSTM and the GRU remember the first of 20 symbols.

    Your own train_step, with your own forward and backward passes, 600 steps for each cell: the trained
    LSTM and GRU must name the first of 20 symbols on unseen sequences (accuracy 0.9 or more; chance is 0.25).
    The plain RNN is trained too, for you to compare: its gradient from step 20 has all but vanished at step 1.
    Accuracy is measured with your own forward pass, the one your train_step trains: the same at home and at
    grading."""
    own = student.as_written
    rows, failing = [], []
    for cell in ("rnn", "lstm", "gru"):
        params, losses = trained(own.training.train_step, cell)
        share = accuracy(getattr(getattr(own, cell), f"{cell}_forward"), cell, params)
        rows.append(f"  {cell:4}  loss {np.mean(losses[:TAIL]):.3f} -> {np.mean(losses[-TAIL:]):.3f}   "
                    f"accuracy {share:.2f}")
        if cell != "rnn" and not share >= LEARNED:
            failing.append(cell)
    assert not failing, (
        f"With your own code, {' and '.join(failing)} did not learn to carry the first symbol across 20 steps "
        f"(accuracy on 500 unseen sequences; learned is {LEARNED} or more, chance {1 / K:.2f}):\n"
        + "\n".join(rows) + "\nThe reference learns with both gated cells from this start. Check train_step's "
        "backward pass through the output layer, and the cells' backward passes (their gradient checks).")
