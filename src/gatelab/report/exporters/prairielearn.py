"""Results as PrairieLearn's external grader ``results.json`` (its documented format, docs/externalGrading.md).

``gradable``, ``score`` as a fraction in [0, 1], ``message``, and ``tests``:
each ``name``, ``points``, ``max_points``, ``message`` and ``output``, what
the ``<pl-external-grader-results>`` element shows (``points`` and
``max_points`` on every test, or it shows no points at all). PrairieLearn shows
the file to the student at once and refuses one over 1 MB, so a test whose
visibility is not ``visible`` keeps its points but not its text, and long texts
are cut until the document fits in ``LIMIT``. Notes for the instructor are not
here: the entry point's output, which only staff see, has them.
"""
from __future__ import annotations

import json
from typing import Any

from gatelab.report.exporters import facts, test_facts
from gatelab.report.results import Results, TestResult

LIMIT = 900_000  # bytes of JSON: PrairieLearn's grader refuses results over 1 MiB
TEXT_CHARS = 8_000  # a test's message or output longer than this is cut


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else f"{text[:chars].rstrip()}\n… (cut: {len(text) - chars} more characters)"


def _test(test: TestResult, chars: int) -> dict[str, Any]:
    shown = test.visibility == "visible"
    message = test.feedback if shown else f"Its feedback is not shown here (visibility: {test.visibility})."
    return {"name": test.name, "points": test.score, "max_points": test.max_score,
            "message": _cut(message, chars), "output": _cut(test.output, chars) if shown else "",
            "extra_data": test_facts(test)}


def _message(results: Results) -> str:
    lines = [f"{results.title}: {results.score:g}/{results.max_score:g} points", *results.notices]
    if results.grader_errors:
        lines.append(f"{len(results.grader_errors)} test(s) failed inside the grader; your instructor has been told.")
    return "\n".join(lines)


def render(results: Results) -> dict[str, Any]:
    """The results.json document for ``results``, under ``LIMIT`` bytes."""
    fraction = results.score / results.max_score if results.max_score > 0 else 0.0
    chars = TEXT_CHARS
    while True:
        document = {"gradable": True, "score": min(1.0, max(0.0, fraction)), "message": _message(results),
                    "tests": [_test(t, chars) for t in results.tests], "extra_data": facts(results)}
        if chars <= 100 or len(json.dumps(document, ensure_ascii=False).encode("utf-8")) <= LIMIT:
            return document
        chars //= 2


def failure(message: str) -> dict[str, Any]:
    """A valid results.json when grading itself could not run: not gradable, so the student loses no attempt
    and gets no points; the reason goes to the entry point's output, which staff see."""
    return {"gradable": False, "score": 0.0,
            "message": "The autograder could not grade this submission; your instructor has been told.",
            "tests": []}
