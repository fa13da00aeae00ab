"""Grading the real assignment end to end: reference, stubs, targets, visibility, determinism."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import COURSE, values_tests
from gatelab import grading
from gatelab.course.contract import load as load_contract
from gatelab.errors import UsageError
from gatelab.report.results import Kind

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = load_contract(COURSE / "grader").functions


def test_reference_gets_full_marks(assignment):
    """The reference solutions (with the answer key) pass every test, hidden ones and the quiz included."""
    results = grading.grade(assignment, COURSE / "solutions")
    failing = [(t.name, t.feedback) for t in results.tests if not t.passed]
    assert failing == []
    quiz_points = [t.max_score for t in results.tests if t.function.startswith("quiz.")]
    assert sum(quiz_points) > 0
    own = [t.max_score for t in results.tests if t.kind is Kind.OWN]
    assert sum(own) > 0  # instructors' own tests (grader/tests/test_properties.py)
    code = [s.points for s in assignment.tests]
    assert results.score == results.max_score == math.fsum(code + quiz_points + own)


def test_every_function_is_graded(assignment):
    """Every function of the curriculum has at least one test in the results."""
    results = grading.grade(assignment, COURSE / "solutions", grading.Request(quiz="none"))
    assert set(results.by_function()) == {f.qualname for f in FUNCTIONS}


def test_stubs_get_zero_with_not_implemented(assignment):
    """The untouched exercises score 0; each values test says 'not implemented yet' with a hint, each aspect
    that it is judged once the function returns right values (and is marked not judged)."""
    results = grading.grade(assignment, COURSE / "exercises", grading.Request(quiz="none"))
    assert results.score == 0
    assert all(test.status == "failed" for test in results.tests)
    for test in values_tests(results):
        assert f"{test.function} is not implemented yet: " in test.feedback, test.feedback
    for test in (t for t in results.tests if t.kind is Kind.ASPECT):
        assert "is judged once" in test.feedback and not test.judged, test.feedback
    for test in (t for t in results.tests if t.kind is Kind.OWN):
        assert f"{test.function} is not implemented yet: " in test.feedback, test.feedback


def test_public_run_counts_hidden_tests(assignment):
    """Without hidden tests, the visible ones and every aspect (judged on the public cases) run, and the rest
    are counted, not lost."""
    results = grading.grade(assignment, COURSE / "solutions", grading.Request(include_hidden=False, quiz="none"))
    everything = grading.grade(assignment, COURSE / "solutions", grading.Request(quiz="none"))
    local = [t for t in everything.tests if t.visibility == "visible" or t.kind is Kind.ASPECT]
    assert [t.name for t in results.tests] == [t.name for t in local]
    assert results.hidden_count == len(everything.tests) - len(local) > 0
    assert any(t.visibility != "visible" for t in results.tests)  # the hidden aspects
    assert all(t.visibility == "visible" or t.kind is Kind.ASPECT for t in results.tests)


@pytest.mark.parametrize("target, functions", [
    ("lstm", {f.qualname for f in FUNCTIONS if f.module == "lstm"}),
    ("gru.hidden_state", {"gru.hidden_state"}),
])
def test_target_narrows_the_run(assignment, target, functions):
    """A module or function target grades only that module or function."""
    results = grading.grade(assignment, COURSE / "solutions", grading.Request(target=target))
    assert set(results.by_function()) == functions


def test_unknown_target_suggests_a_name(assignment):
    """A misspelt target is a usage error that names the closest function."""
    with pytest.raises(UsageError, match="lstm.forget_gate"):
        grading.grade(assignment, COURSE / "solutions", grading.Request(target="lstm.forgetgate"))


def test_missing_submission_folder_is_a_usage_error(assignment, tmp_path):
    """A submission folder that does not exist is reported as such."""
    with pytest.raises(UsageError, match="does not exist"):
        grading.grade(assignment, tmp_path / "nope")


def test_two_runs_give_identical_results(assignment):
    """Inputs are seeded per function and case, so feedback replays exactly."""
    first = grading.grade(assignment, COURSE / "exercises", grading.Request(target="lstm"))
    second = grading.grade(assignment, COURSE / "exercises", grading.Request(target="lstm"))
    assert [(t.name, t.score, t.feedback) for t in first.tests] == \
        [(t.name, t.score, t.feedback) for t in second.tests]


def test_empty_submission_costs_everything_and_says_why(assignment, tmp_path):
    """A folder with no exercise files scores 0 and names the missing file."""
    results = grading.grade(assignment, tmp_path, grading.Request(target="rnn"))
    assert results.score == 0 and results.tests
    assert all("there is no file rnn.py in the submission" in t.feedback for t in values_tests(results))
