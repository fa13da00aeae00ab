"""Why submissions lost their points wholesale: what the class summary says of every zero.

A score of 0 has a reason an instructor needs before publishing grades: the
submission was empty, a file did not import (a syntax error, a loop that never
ends, a crash, an exception at import), files or functions were missing, the
exercise's stubs were handed in untouched, a limit was hit, grading could not
run, it came late, or its folder matches no one in the roster. :func:`findings`
reads them from one submission's results (gatelab's JSON: each values test's
``cause``, as data); :func:`explain` counts them over the class, with the
students under each. A zero with none of these is still named (no test
passed), so no zero goes unexplained.

``late`` and ``unmatched`` are inputs: who came late is for the LMS download
to say, who matches no one for the roster.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Collection, Iterable, Sequence

from gatelab.report.results import Cause


class Reason(str, Enum):
    """One reason a submission lost points wholesale, in the order the summary lists them."""

    NOT_GRADED = "not_graded"  # grading could not run: a broken zip, the grader's own failure
    EMPTY = "empty"  # no file at all
    IMPORT_SYNTAX = "import_syntax"  # a file with a syntax error
    IMPORT_HANG = "import_hang"  # importing a file ran past the time limit
    IMPORT_CRASH = "import_crash"  # importing a file ended the worker
    IMPORT_RAISED = "import_raised"  # importing a file raised, or called sys.exit
    MISSING_FILES = "missing_files"
    MISSING_FUNCTIONS = "missing_functions"
    STUBS = "stubs"  # every function it has is still the exercise's stub
    LIMITS = "limits"  # a memory or time limit, or the time budget
    NOTHING_RIGHT = "nothing_right"  # a zero none of the above explains: graded, and no test passed
    LATE = "late"  # submitted after the due date
    UNMATCHED = "unmatched"  # its folder matches no one in the roster


_BY_CAUSE = {Cause.IMPORT_SYNTAX: Reason.IMPORT_SYNTAX, Cause.IMPORT_HANG: Reason.IMPORT_HANG,
             Cause.IMPORT_CRASH: Reason.IMPORT_CRASH, Cause.IMPORT_RAISED: Reason.IMPORT_RAISED,
             Cause.MISSING_FILE: Reason.MISSING_FILES, Cause.MISSING_FUNCTION: Reason.MISSING_FUNCTIONS}


def findings(results: dict[str, Any]) -> dict[str, list[str]]:
    """The reasons one submission's results show (gatelab's JSON), each with what it concerns (the files, the
    functions, the limits hit), as plain data for a batch's digest: reason value -> details."""
    found: dict[Reason, list[str]] = {}
    if results.get("empty"):
        found[Reason.EMPTY] = []
    stubbed: dict[str, bool] = {}  # function -> every values test of it met the untouched stub
    for test in results.get("tests", []):
        if test.get("kind") != "values":
            continue
        cause = _cause(test)
        stubbed[test["function"]] = stubbed.get(test["function"], True) and cause is Cause.STUB
        reason = _BY_CAUSE.get(cause)
        if reason is None or Reason.EMPTY in found:
            continue
        detail = test["function"] if reason is Reason.MISSING_FUNCTIONS else test.get("cause_file", "")
        details = found.setdefault(reason, [])
        if detail not in details:
            details.append(detail)
    if any(stubbed.values()) and all(stub or _lost(name, results) for name, stub in stubbed.items()):
        found[Reason.STUBS] = sorted({_file(name) for name, stub in stubbed.items() if stub})
    if results.get("limits_hit"):
        found[Reason.LIMITS] = list(results["limits_hit"])
    return {reason.value: details for reason, details in sorted(found.items(), key=lambda i: _ORDER[i[0]])}


def _cause(test: dict[str, Any]) -> Cause:
    """A test's cause; NONE where results/ holds none (an older gatelab's) or one this gatelab does not know."""
    try:
        return Cause(test.get("cause") or "")
    except ValueError:
        return Cause.NONE


def _file(function: str) -> str:
    return f"{function.split('.')[0]}.py"


def _lost(function: str, results: dict[str, Any]) -> bool:
    """Whether every values test of ``function`` met a cause other than the stub (its file missing or not
    imported): such a function says nothing of whether the student wrote the others."""
    causes = {_cause(t) for t in results.get("tests", [])
              if t.get("kind") == "values" and t["function"] == function}
    return bool(causes) and all(c not in (Cause.NONE, Cause.STUB) for c in causes)


_ORDER = {reason: n for n, reason in enumerate(Reason)}


@dataclass
class Entry:
    """One student under one reason: what it concerns, and their score (None: not graded, no score)."""

    student: str
    details: list[str]
    score: float | None


@dataclass
class Group:
    """One reason over the class: the students it hit, in name order."""

    reason: Reason
    entries: list[Entry] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass
class Zero:
    """A submission that scored 0 (or was not graded), and its reasons with what each concerns."""

    student: str
    reasons: dict[Reason, list[str]]


@dataclass
class Explained:
    """The class's reasons (groups, in :class:`Reason` order), and every zero with its reasons."""

    groups: list[Group]
    zeros: list[Zero]  # in name order

    @property
    def any(self) -> bool:
        return bool(self.groups)


def explain(rows: Iterable[Any], late: Collection[str] = (), unmatched: Sequence[str] = ()) -> Explained:
    """Every reason over ``rows`` (a batch's rows: ``student``, ``score``, ``max_score``, ``error``, ``unclear``
    and the ``digest`` whose ``findings`` come from :func:`findings`), with ``late`` (the students who
    submitted after the due date) and ``unmatched`` (those the roster does not know). A folder that names no
    student (``unclear``) takes no row and is left to the summary's unresolved list."""
    groups: dict[Reason, Group] = {}
    zeros: list[Zero] = []
    for row in rows:
        if row.unclear:
            continue
        own = _reasons(row, late, unmatched)
        for reason, details in own.items():
            score = None if row.error else row.score
            groups.setdefault(reason, Group(reason)).entries.append(Entry(row.student, details, score))
        if row.error or row.score <= 0:
            zeros.append(Zero(row.student, own))
    ordered = [groups[reason] for reason in Reason if reason in groups]
    for group in ordered:
        group.entries.sort(key=lambda entry: entry.student)
    return Explained(ordered, sorted(zeros, key=lambda zero: zero.student))


def _reasons(row: Any, late: Collection[str], unmatched: Sequence[str]) -> dict[Reason, list[str]]:
    """One row's reasons: grading's own (not graded, or its results' findings), then late and unmatched; a zero
    that none of grading's reasons explains is named ``NOTHING_RIGHT``."""
    own: dict[Reason, list[str]] = {}
    if row.error:
        own[Reason.NOT_GRADED] = [row.error]
    else:
        own.update((Reason(k), list(v)) for k, v in row.digest.get("findings", {}).items())
        if row.score <= 0 and not own:
            own[Reason.NOTHING_RIGHT] = []
    if row.student in late:
        own[Reason.LATE] = []
    if row.student in unmatched:
        own[Reason.UNMATCHED] = []
    return own
