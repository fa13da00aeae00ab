"""Feedback that reads well at length: the same message said once, failures before passes.

One missing file fails every test of its functions with one sentence; a page
that repeats it 42 times buries the one failure that differs. :func:`fold`
keeps the first test with each message and counts the others under it ("the
same for 41 more tests"); a message already shown under an earlier function
points there instead of being shown again. :func:`sections` lays out a
student's results (gatelab's JSON) for a page: the per-function table, the
failures grouped by function, then the passes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Hashable, Mapping, Sequence, TypeVar

from gatelab.report.results import QUIZ  # the questions' group: one row for the quiz, not one per question

T = TypeVar("T")


@dataclass
class Fold(Generic[T]):
    """Tests that said the same: the first, shown in full (unless ``earlier``), and the others."""

    first: T
    more: list[T] = field(default_factory=list)
    earlier: str = ""  # the group under which this message is shown in full, when it is another one

    @property
    def count(self) -> int:
        return 1 + len(self.more)


def fold(groups: Mapping[str, Sequence[T]], key: Callable[[T], Hashable]) -> dict[str, list[Fold[T]]]:
    """Each group's items (in order), with the items whose ``key`` (the message) is the same folded into the
    first; a message a group shares with an earlier one names that group as ``earlier``."""
    shown: dict[Hashable, str] = {}
    folded: dict[str, list[Fold[T]]] = {}
    for name, items in groups.items():
        folds: dict[Hashable, Fold[T]] = {}
        for item in items:
            message = key(item)
            if message in folds:
                folds[message].more.append(item)
                continue
            folds[message] = Fold(item, earlier=shown.get(message, ""))
            shown.setdefault(message, name)
        folded[name] = list(folds.values())
    return folded


def group_of(test: dict[str, Any]) -> str:
    """The row a test counts in: its function, or the quiz for every question."""
    return QUIZ if test.get("kind") == "question" else str(test["function"])


def _message(test: dict[str, Any]) -> tuple[str, str]:
    return str(test.get("feedback", "")), str(test.get("output", ""))


def _heading(test: dict[str, Any]) -> str:
    return str(test["name"]).split(": ", 1)[-1]


def sections(results: dict[str, Any]) -> dict[str, Any]:
    """A student's results laid out for a page: ``table`` (per function: points, tests passed of all),
    ``failures`` (per function with a failure: the folds of its judged tests, in grading order, and
    ``unjudged``, the headings of the aspects judged only once its values are right: one line, as in the
    terminal) and ``passes`` (per function: the tests that passed)."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for test in results.get("tests", []):
        by_group.setdefault(group_of(test), []).append(test)
    table = [{"function": name, "score": sum(t["score"] for t in tests),
              "max_score": sum(t["max_score"] for t in tests), "tests": len(tests),
              "passed": sum(t["status"] == "passed" for t in tests)} for name, tests in by_group.items()]
    failing = {name: [t for t in tests if t["status"] != "passed"] for name, tests in by_group.items()}
    judged = {name: [t for t in tests if t.get("judged", True)] or tests for name, tests in failing.items() if tests}
    folded = fold(judged, _message)
    failures = {name: {"folds": folds, "unjudged": [_heading(t) for t in failing[name] if t not in judged[name]]}
                for name, folds in folded.items()}
    passes = {name: [t for t in tests if t["status"] == "passed"] for name, tests in by_group.items()}
    return {"table": table, "failures": failures,
            "passes": {name: tests for name, tests in passes.items() if tests},
            "failed": sum(len(tests) for tests in failing.values()),
            "passed": sum(len(tests) for tests in passes.values())}
