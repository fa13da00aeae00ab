"""Results -> a format: one module per format, none of them known to the Results model.

Every format carries the same facts: per test its score, status, feedback, what
the student printed and the mistakes named; per run the student id that picked
the quiz variants, the gatelab version and the assignment's checksum.
"""
from __future__ import annotations

from typing import Any

from gatelab.report.results import Results, TestResult
from gatelab.version import __version__


def text_of(test: TestResult) -> str:
    """A test's feedback, then what the student's code printed."""
    return "\n\n".join(filter(None, [test.feedback, test.output and "Your code printed:\n" + test.output]))


def facts(results: Results) -> dict[str, Any]:
    """What every format records about a run, besides its tests."""
    return {"student": results.student, "gatelab": __version__, "assignment": results.checksum,
            "due_date": results.due_date, "submitted_at": results.submitted_at, "isolation": results.isolation}


def test_facts(test: TestResult) -> dict[str, Any]:
    """What every format records about a test, besides its score and text."""
    return {"function": test.function, "kind": test.kind.value, "case": test.case, "mark": test.mark,
            "mistakes": list(test.mistakes)}
