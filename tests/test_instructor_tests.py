"""Instructors' own tests: they call the student's functions in the sandbox and carry points and visibility."""
from __future__ import annotations

import sys
from pathlib import Path

from conftest import COURSE, write_submission
from gatelab import grading
from gatelab.course import config

ROOT = Path(__file__).resolve().parent.parent
PROPERTY = "lstm.forget_gate: With Wf = 0 the forget gate follows its bias: bf = +10 keeps the memory " \
           "(f about 1), bf = -10 erases it"


def _property(results):
    return next(t for t in results.tests if t.name == PROPERTY)


def test_the_shipped_property_test_passes_for_the_reference_with_its_markers(assignment):
    """The example in grader/tests/test_properties.py: 2 points, visible, passed by the reference."""
    test = _property(grading.grade(assignment, COURSE / "solutions",
                                   grading.Request(target="lstm.forget_gate", quiz="none")))
    assert test.passed and test.max_score == 2 and test.visibility == "visible"


def test_the_students_function_runs_in_the_worker_never_in_the_grader(assignment, tmp_path):
    """The student's code behind `student.lstm.forget_gate` runs in another process, and its prints come back."""
    folder = write_submission(tmp_path, {"lstm": (
        '    return sigmoid(params["Wf"] @ concat + params["bf"])\n',
        '    import os\n    print("running in", os.getpid())\n'
        '    return sigmoid(params["Wf"] @ concat + params["bf"])\n')})
    test = _property(grading.grade(assignment, folder, grading.Request(target="lstm.forget_gate", quiz="none")))
    assert test.passed and "running in" in test.output
    assert str(__import__("os").getpid()) not in test.output.split()
    assert "lstm" not in sys.modules


def test_a_wrong_function_fails_with_the_judges_words(assignment, tmp_path):
    """A forget gate with tanh is about 1 for bf = +10 but -1, not 0, for bf = -10: failed, explained, no error."""
    folder = write_submission(tmp_path, {"lstm": ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                                  'return np.tanh(params["Wf"] @ concat + params["bf"])')})
    test = _property(grading.grade(assignment, folder, grading.Request(target="lstm.forget_gate", quiz="none")))
    assert test.status == "failed" and test.score == 0
    assert "f with bf = -10 is wrong in 20 of 20 entries" in test.feedback


def test_a_stub_fails_with_its_hint(assignment):
    """On the stubs, the property test says the function is not implemented, like every other test."""
    test = _property(grading.grade(assignment, COURSE / "exercises",
                                   grading.Request(target="lstm.forget_gate", quiz="none")))
    assert test.status == "failed" and "lstm.forget_gate is not implemented yet" in test.feedback


def test_a_typo_in_an_instructors_test_is_a_grader_fault_that_says_what_was_meant(make_assignment):
    """`student.lstm.forgetgate` is the instructor's bug: a grader fault naming the function they meant."""
    root = make_assignment()
    (root / "grader" / "tests" / "test_typo.py").write_text(
        "import pytest\n\n\n@pytest.mark.grades('lstm.forget_gate')\ndef test_typo(student):\n"
        "    student.lstm.forgetgate(1, 2, 3)\n")
    results = grading.grade(config.load(root), COURSE / "solutions",
                            grading.Request(target="lstm.forget_gate", quiz="none"))
    assert any("Did you mean 'lstm.forget_gate'" in f for f in results.faults), results.faults


def test_a_wrong_part_does_not_cost_an_instructors_test_of_the_function_above_it(assignment, tmp_path):
    """The forget gate's property holds with a sigmoid that returns zeros: the test measures the gate's own work."""
    zero_sigmoid = ("    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n", "    return np.zeros_like(z)\n")
    folder = write_submission(tmp_path, {"activations": zero_sigmoid})
    assert _property(grading.grade(assignment, folder, grading.Request(target="lstm.forget_gate", quiz="none"))).passed


NOTED = '''\
import numpy as np
import pytest


@pytest.mark.grades("rnn.rnn_forward")
@pytest.mark.visibility("visible")
def test_noted(student, note):
    """What the student's own forward pass gives, shown whether the test passes or fails."""
    x, h0 = np.zeros((3, 1, 4)), np.zeros((4, 1))
    params = {"Wh": np.zeros((4, 7)), "bh": np.full((4, 1), 0.5)}
    h = student.as_written.rnn.rnn_forward(x, h0, params)
    note(f"your h[0, 0, -1] is {float(h[0, 0, -1]):.4f}")
    if abs(h[0, 0, -1] - np.tanh(0.5)) > 1e-9:
        pytest.fail("tanh(0.5) expected", pytrace=False)
'''


def test_a_note_reaches_the_student_when_the_test_passes_and_when_it_fails(make_assignment, tmp_path):
    """``note`` lines are the feedback of a passing test and follow the failure of a failing one;
    ``student.as_written`` runs the student's own parts (a wrong cell makes the forward pass wrong)."""
    root = make_assignment()
    (root / "grader" / "tests" / "test_noted.py").write_text(NOTED)
    assignment = config.load(root)
    graded = grading.grade(assignment, COURSE / "solutions", grading.Request(target="rnn.rnn_forward", quiz="none"))
    passed = next(t for t in graded.tests if t.name.startswith("rnn.rnn_forward: What"))
    assert passed.passed and passed.feedback == "your h[0, 0, -1] is 0.4621"
    folder = write_submission(tmp_path, {"rnn": ("return np.tanh(params[\"Wh\"] @ concat + params[\"bh\"])",
                                                 "return params[\"Wh\"] @ concat + params[\"bh\"]")})
    failed = next(t for t in grading.grade(assignment, folder,
                                           grading.Request(target="rnn.rnn_forward", quiz="none")).tests
                  if t.name.startswith("rnn.rnn_forward: What"))
    assert not failed.passed and failed.feedback.splitlines() == ["tanh(0.5) expected", "your h[0, 0, -1] is 0.5000"]
