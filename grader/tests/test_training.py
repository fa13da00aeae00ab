"""training: softmax, cross-entropy and one training step on the cases of grader/config.yaml; and a training
run of the student's own code, where the LSTM and the GRU learn to carry a symbol across 20 steps."""
import numpy as np
import pytest

# The task (solutions/training.py says the same): T = 20 steps; step 0 shows one of K symbols (one-hot) and a
# start flag, steps 1..19 show random distractor symbols; the label is the symbol of step 0.
K, T, N_H, M, STEPS, LR, MAX_NORM, BIAS = 4, 20, 8, 32, 600, 1.0, 1.0, 3.0
TAIL = 50  # the last steps whose mean loss is judged: each step's batch is new, so this is unseen data
LEARNED, CHANCE = 0.35, float(np.log(K))  # a learned cell's mean loss is below 0.35; chance is log 4 = 1.39
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


def run(train_step, cell: str) -> list[float]:
    """The losses of STEPS steps of ``train_step`` on fresh batches, from the course's start."""
    rng = np.random.default_rng(2026)
    params, losses = initial(cell, rng), []
    for _ in range(STEPS):
        x, y = remember_first(rng, M)
        params, loss = train_step(cell, params, x, y, LR, MAX_NORM)
        losses.append(float(loss))
    return losses


@pytest.mark.grades("training")
def test_training(contract_test, grade):
    grade(contract_test)


@pytest.mark.grades("training.train_step")
@pytest.mark.points(3)
@pytest.mark.visibility("visible")
def test_gated_cells_remember_where_the_rnn_forgets(student):
    """Your own train_step, forward and backward passes, 600 steps each: the LSTM and the GRU must learn to
    name the first of 20 symbols (mean loss of the last 50 steps below 0.35; chance is 1.39). The plain RNN
    is run too, for you to compare: its gradient from step 20 has all but vanished at step 1."""
    train_step = student.as_written.training.train_step
    tails = {cell: float(np.mean(run(train_step, cell)[-TAIL:])) for cell in ("rnn", "lstm", "gru")}
    table = "\n".join(f"  {cell:4}  {tail:.3f}  {'learned' if tail < LEARNED else 'near chance' if tail > 0.8 * CHANCE else 'partly'}"
                      for cell, tail in tails.items())
    failing = [cell for cell in ("lstm", "gru") if not tails[cell] < LEARNED]
    assert not failing, (
        f"With your own code, {' and '.join(failing)} did not learn to carry the first symbol across 20 steps "
        f"(mean loss of the last {TAIL} of {STEPS} steps; learned is below {LEARNED}, chance {CHANCE:.2f}):\n"
        f"{table}\nThe reference learns with both gated cells from this start. Check train_step's backward "
        "pass through the output layer, and the cells' backward passes (their gradient checks).")
