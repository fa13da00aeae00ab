"""Results as Gradescope's autograder ``results.json`` (its published specification).

Top level: ``score``, ``execution_time``, ``output``, ``output_format``,
``test_output_format``, ``visibility``, ``stdout_visibility``, ``tests``.
Each test: ``score``, ``max_score``, ``status``, ``name``, ``number``,
``output``, ``tags``, ``visibility``.
"""
from __future__ import annotations

from typing import Any

from gatelab.report.exporters import facts, test_facts, text_of
from gatelab.report.results import Results, TestResult


def _test(number: int, test: TestResult) -> dict[str, Any]:
    output = text_of(test)
    return {
        "name": test.name,
        "number": str(number),
        "score": test.score,
        "max_score": test.max_score,
        "status": "passed" if test.passed else "failed",
        "output": output,
        "tags": [test.function.split(".")[0], test.function],
        "visibility": test.visibility,
        "extra_data": test_facts(test),
    }


INSTRUCTOR_NOTES = "Notes for the instructor"


def _staff_notes(results: Results) -> list[str]:
    """Faults, assignment defects, and a wall graded without some of its layers (--isolation weak)."""
    weak = ([f"Graded behind {results.isolation} only: this machine lacks {'; '.join(results.isolation_missing)}."]
            if results.isolation_missing else [])
    return results.faults + results.instructor_notes + weak


def _instructor_test(number: int, notes: list[str]) -> dict[str, Any]:
    """What went wrong in the assignment or the grader, in a test only staff can see."""
    return {"name": INSTRUCTOR_NOTES, "number": str(number), "score": 0.0, "max_score": 0.0, "status": "failed",
            "output": "\n".join(notes), "tags": ["instructor"], "visibility": "hidden"}


def render(results: Results) -> dict[str, Any]:
    """The results.json document for ``results``; notes for the instructor go only in a hidden test."""
    errors = results.grader_errors
    summary = "\n".join([f"{results.title}: {results.score:g}/{results.max_score:g}", *results.notices])
    if errors:
        summary += f"\n{len(errors)} test(s) failed inside the grader; your instructor has been told."
    tests = [_test(n, t) for n, t in enumerate(results.tests, start=1)]
    if notes := _staff_notes(results):
        tests.append(_instructor_test(len(tests) + 1, notes))
    return {
        "score": results.score,
        "execution_time": round(results.seconds, 3),
        "output": summary,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": facts(results),
        "tests": tests,
    }


def failure(message: str) -> dict[str, Any]:
    """A valid results.json when grading itself could not run: score 0 and the reason."""
    return {
        "score": 0.0,
        "output": "The autograder could not grade this submission; your instructor has been told.",
        "output_format": "text",
        "visibility": "visible",
        "tests": [
            {"name": "Autograder failed", "score": 0.0, "max_score": 0.0, "status": "failed",
             "output": "The autograder could not grade this submission.", "visibility": "visible"},
            {"name": "Autograder failure details", "score": 0.0, "max_score": 0.0, "status": "failed",
             "output": message, "visibility": "hidden"},
        ],
    }
