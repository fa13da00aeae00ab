"""The judge on hand-made submissions: composites on own parts, inputs left alone, clear messages."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import values_tests, write_submission
from gatelab import grading

ROOT = Path(__file__).resolve().parent.parent
CASES = {"small", "batch_of_one", "wide_input", "single_step", "large_batch", "saturated", "small_gradients",
         "long_sequence"}


def submission(tmp_path: Path, **changes: tuple[str, str]) -> Path:
    return write_submission(tmp_path, changes)


def failing(results) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for test in results.tests:
        if not test.passed:
            out.setdefault(test.function, []).append(test.feedback)
    return out


def test_composite_is_graded_on_its_own_work(assignment, tmp_path):
    """A wrong forget gate costs lstm.forget_gate only; the cell, right with the grader's gate, says to fix it first."""
    folder = submission(tmp_path, lstm=('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                        'return np.tanh(params["Wf"] @ concat + params["bf"])'))
    results = grading.grade(assignment, folder, grading.Request(target="lstm", quiz="none"))
    assert set(failing(results)) == {"lstm.forget_gate"}
    cell_values = [t for t in results.tests if t.function == "lstm.lstm_cell_forward" and t.case in CASES]
    assert cell_values and all("your own lstm.forget_gate is wrong" in t.feedback and
                               "fix lstm.forget_gate first" in t.feedback for t in cell_values)


def test_composite_that_ignores_its_parts_is_still_checked(assignment, tmp_path):
    """A cell that skips the output gate is wrong even though every part is right."""
    folder = submission(tmp_path, lstm=("    h_next = hidden_state(o, c_next)\n",
                                        "    h_next = np.tanh(c_next)\n"))
    results = grading.grade(assignment, folder, grading.Request(target="lstm", quiz="none"))
    assert set(failing(results)) == {"lstm.lstm_cell_forward"}


def test_in_place_change_of_an_input_is_named(assignment, tmp_path):
    """Changing c_prev in place fails with a message naming c_prev."""
    folder = submission(tmp_path, lstm=("    return f * c_prev + i * c_tilde\n",
                                        "    c_prev *= f\n    c_prev += i * c_tilde\n    return c_prev.copy()\n"))
    results = grading.grade(assignment, folder, grading.Request(target="lstm.cell_state", quiz="none"))
    messages = failing(results)["lstm.cell_state"]
    assert all("changed its input c_prev in place" in m for m in messages)


def test_wrong_shape_explains_transpose(assignment, tmp_path):
    """A transposed result is called a transpose, with the expected shape in symbols."""
    folder = submission(tmp_path, rnn=('    return np.tanh(params["Wh"] @ concat + params["bh"])\n',
                                       '    return np.tanh(params["Wh"] @ concat + params["bh"]).T\n'))
    results = grading.grade(assignment, folder, grading.Request(target="rnn.rnn_cell_forward", quiz="none"))
    message = failing(results)["rnn.rnn_cell_forward"][0]
    assert "has shape (5, 4); expected (4, 5) = (n_h, m)" in message and "transpose" in message


def test_exception_names_the_students_line(assignment, tmp_path):
    """An exception shows the student's file, line and code, not the grader's traceback."""
    folder = submission(tmp_path, gru=('    return z * h_tilde + (1.0 - z) * h_prev\n',
                                       '    return z * h_tilde + (1.0 - z) * h_prv\n'))
    results = grading.grade(assignment, folder, grading.Request(target="gru.hidden_state", quiz="none"))
    message = failing(results)["gru.hidden_state"][0]
    assert "raised NameError: name 'h_prv' is not defined" in message
    assert "gru.py, line" in message and "Traceback" not in message and "gatelab" not in message


def test_printed_output_is_captured_and_shown(assignment, tmp_path):
    """A failing function's prints come back as output, never as a result."""
    folder = submission(tmp_path, activations=("    return 1.0 - np.tanh(z) ** 2\n",
                                               "    print('debugging tanh')\n    return 1.0 - z ** 2\n"))
    results = grading.grade(assignment, folder, grading.Request(target="activations.tanh_derivative", quiz="none"))
    failed = [t for t in values_tests(results) if not t.passed]
    assert failed and all("debugging tanh" in t.output for t in failed)


@pytest.mark.parametrize("old, new", [
    ("    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n", "    return 1.0 / (1.0 + np.exp(-z))\n"),
])
def test_sigmoid_overflow_warning_fails_only_saturated(assignment, tmp_path, old, new):
    """The naive sigmoid is right on small inputs but warns at z = -1000, which the contract forbids."""
    results = grading.grade(assignment, submission(tmp_path, activations=(old, new)),
                            grading.Request(target="activations.sigmoid"))
    assert [t.case for t in results.tests if not t.passed] == ["saturated"]


def test_a_norm_of_zero_is_not_paid_where_the_right_norm_is_tiny(assignment, tmp_path):
    """Over the hidden 30-step sequence the right norms fall to about 1e-14: a loop that never fills norms[0]
    (left 0) is wrong there too, since the contract gives norms an absolute tolerance of 0 (relative only)."""
    from conftest import write_submission
    from gatelab import grading

    folder = write_submission(tmp_path, {"gradients": ("    for k in range(T - 1, -1, -1):\n",
                                                      "    for k in range(T - 1, 0, -1):\n")})
    results = grading.grade(assignment, folder,
                            grading.Request(target="gradients.gradient_norms_through_time", quiz="none"))
    [long] = [t for t in results.tests if t.name.endswith("long sequence (T=30)")]
    assert not long.passed and "gradients-norms-first-step-missing" in long.mistakes, long.feedback
    assert assignment.contract.lookup("gradients.gradient_norms_through_time").returns[0].atol == 0
