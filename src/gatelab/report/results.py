"""What grading produced, independent of any output format.

Exporters (terminal, Gradescope, JSON) read a :class:`Results`; nothing
here knows how it will be shown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import Any

from gatelab.errors import EXIT_ASSIGNMENT_DEFECT, EXIT_GRADER_FAULT, EXIT_NOT_FULL_MARKS, EXIT_OK

QUIZ = "quiz"  # the quiz's one name: the target that grades it, the questions' group, their names' prefix


def question_name(question_id: str) -> str:
    """The name of a question's result (and the target that grades it alone): ``quiz.<id>``."""
    return f"{QUIZ}.{question_id}"


class Status(str, Enum):
    """How a test ended: passed, failed (the student's work), or error (the grader's own failure)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


class Kind(str, Enum):
    """What a test judges: values on one case, an aspect over cases, an instructor's own test, a question."""

    VALUES = "values"
    ASPECT = "aspect"
    OWN = "own"
    QUESTION = "question"


class Cause(str, Enum):
    """Why a function gave nothing to judge, as data (the feedback says it in words): what the class summary
    counts to explain a score. NONE: it returned, or failed for what it returned or raised itself."""

    NONE = ""
    IMPORT_SYNTAX = "import_syntax"  # its file (or one it imports) has a syntax error
    IMPORT_HANG = "import_hang"  # importing its file ran past the time limit
    IMPORT_CRASH = "import_crash"  # importing its file ended the worker (os._exit, a signal)
    IMPORT_RAISED = "import_raised"  # importing its file raised another exception, or called sys.exit
    MISSING_FILE = "missing_file"  # the submission has no such file
    MISSING_FUNCTION = "missing_function"  # its file defines no such function
    STUB = "stub"  # the function itself raises NotImplementedError: the exercise's stub, untouched

    @property
    def at_import(self) -> bool:
        return self.value.startswith("import_")


@dataclass
class TestResult:
    """One graded test: its points, how it ended, and what to tell the student."""

    __test__ = False  # not a pytest test class

    name: str
    function: str
    score: float
    max_score: float
    visibility: str
    status: Status
    feedback: str = ""
    output: str = ""
    kind: Kind = Kind.VALUES
    case: str = ""  # the case of a values test, the aspect of an aspect test
    mark: str = ""  # a question's mark: correct, partial, wrong, unanswered, invalid, unreadable, unknown or error
    mistakes: list[str] = field(default_factory=list)  # ids of the catalog mistakes named in the feedback
    judged: bool = True  # False: an aspect not judged yet (the function's values are not right anywhere)
    cause: Cause = Cause.NONE  # why the function gave nothing to judge (a values test), as data
    cause_file: str = ""  # the file the cause lies in: the one with the syntax error, the missing one
    wrong_output: str = ""  # a digest of the function's own wrong values: one mistake, one digest (similarity)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED


@dataclass
class Results:
    """All tests run on one submission, and the ones held back as hidden."""

    title: str
    submission: str
    tests: list[TestResult] = field(default_factory=list)
    hidden_count: int = 0
    hidden_points: float = 0.0
    seed: int = 0
    seconds: float = 0.0
    notices: list[str] = field(default_factory=list)  # for the student: their answers file, files left out
    instructor_notes: list[str] = field(default_factory=list)  # assignment defects: never in a student's view
    faults: list[str] = field(default_factory=list)  # where gatelab itself failed: never in a student's view
    limits_hit: list[str] = field(default_factory=list)  # "module.function: time limit", ...
    empty: bool = False  # the submission holds no file at all: nothing was handed in
    student: str = ""  # the id that picked the quiz variants
    checksum: str = ""  # of the assignment that graded it (grader files and reference)
    due_date: str = ""  # from the LMS, when it said
    submitted_at: str = ""
    isolation: str = ""  # the layers of the wall its workers ran behind (isolation.Wall.summary)
    isolation_missing: list[str] = field(default_factory=list)  # layers a strict grader needs that were not there

    @property
    def score(self) -> float:
        return math.fsum(t.score for t in self.tests)  # exactly rounded: the same in any order (scaled quiz points)

    @property
    def max_score(self) -> float:
        return math.fsum(t.max_score for t in self.tests)

    @property
    def full_marks(self) -> bool:
        return all(t.passed for t in self.tests)

    @property
    def defects(self) -> bool:
        """Whether grading met a defect in the assignment (a broken question, catalog file or formula)."""
        return bool(self.instructor_notes)

    def exit_code(self, strict: bool = False) -> int:
        """The command's exit status for these results: 4 when gatelab itself failed on a test, else 5 when
        part of the assignment did, else (``strict``: every test must pass) 1 short of full marks, else 0."""
        if self.faults:
            return EXIT_GRADER_FAULT
        if self.defects:
            return EXIT_ASSIGNMENT_DEFECT
        return EXIT_NOT_FULL_MARKS if strict and not self.full_marks else EXIT_OK

    @property
    def grader_errors(self) -> list[TestResult]:
        return [t for t in self.tests if t.status is Status.ERROR]

    def by_function(self) -> dict[str, list[TestResult]]:
        """Tests grouped by the function they grade, in grading order."""
        groups: dict[str, list[TestResult]] = {}
        for test in self.tests:
            groups.setdefault(test.function, []).append(test)
        return groups

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _plain(self)
        data.update(score=self.score, max_score=self.max_score)
        return data


def _plain(value: Any) -> Any:
    """``value`` as plain data (dataclasses as dicts, enums as their values), like ``dataclasses.asdict`` but
    without deep-copying every string: results hold only immutable leaves."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


GRID = 1024  # quiz points are multiples of 1/1024: such numbers add up exactly in binary, in any order


def quiz_points(share: float, code_points: float, points: dict[str, float]) -> dict[str, float]:
    """Each question's points, scaled so that the quiz is ``share`` of the total (code points plus quiz).

    The scaled points lie on a grid of 1/GRID and are rounded by largest remainder so that they add up to
    the quiz's total exactly: every output that adds tests up (terminal, results.json, the exporters, an
    LMS, grades.csv) gets the same totals, and full marks are never shown as 189.9999. Scores are the
    share of a question's points earned, so an answer that earned nothing still earns nothing.
    """
    raw = math.fsum(points.values())
    if code_points <= 0 or raw <= 0:
        return dict(points)
    target = round(share / (1 - share) * code_points * GRID)
    exact = {key: value * target / raw for key, value in points.items()}
    units = {key: math.floor(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: (units[k] - exact[k], k))[:target - sum(units.values())]:
        units[key] += 1
    return {key: count / GRID for key, count in units.items()}
