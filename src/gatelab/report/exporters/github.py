"""Results as GitHub Classroom's autograding result, the JSON its grading reporter reads.

``{version: 1, status, max_score, tests: [{name, status, score, message, ...}]}``:
the reporter adds each test's ``score`` and the run's ``max_score`` into the
points it sends to Classroom, and prints ``message`` for a test that did not
pass. The workflow passes it base64-encoded in a step output named ``result``
(``encoded`` gives that text). The reporter prints messages to the job's log,
which shows ANSI escapes: a message's control characters are spelt out.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from gatelab.report.console import visible
from gatelab.report.exporters import facts, test_facts, text_of
from gatelab.report.results import Results, Status, TestResult

_STATUS = {Status.PASSED: "pass", Status.FAILED: "fail", Status.ERROR: "error"}


def _test(test: TestResult) -> dict[str, Any]:
    return {"name": test.name, "status": _STATUS[test.status], "score": test.score, "max_score": test.max_score,
            "message": visible(text_of(test)), "test_code": test.function, "filename": "", "line_no": 0,
            "execution_time": "0s", "extra_data": test_facts(test)}


def render(results: Results) -> dict[str, Any]:
    """The result document for ``results``."""
    status = "error" if results.grader_errors else ("pass" if results.full_marks else "fail")
    return {"version": 1, "status": status, "max_score": results.max_score,
            "tests": [_test(t) for t in results.tests], "extra_data": facts(results)}


def failure(message: str) -> dict[str, Any]:
    """A valid result when grading itself could not run: one errored test, no points."""
    return {"version": 1, "status": "error", "max_score": 0,
            "tests": [{"name": "Autograder failed", "status": "error", "score": 0, "message": message}]}


def encoded(document: dict[str, Any]) -> str:
    """The document as the reporter reads it from a step output: base64 of compact JSON."""
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
