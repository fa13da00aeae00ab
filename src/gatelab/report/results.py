"""What grading produced, independent of any output format.

Exporters (terminal, Gradescope, JSON) read a :class:`Results`; nothing
here knows how it will be shown.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


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
    student: str = ""  # the id that picked the quiz variants
    checksum: str = ""  # of the assignment that graded it (grader files and reference)
    due_date: str = ""  # from the LMS, when it said
    submitted_at: str = ""

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    @property
    def full_marks(self) -> bool:
        return all(t.passed for t in self.tests)

    @property
    def defects(self) -> bool:
        """Whether grading met a defect in the assignment (a broken question, catalog file or formula)."""
        return bool(self.instructor_notes)

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
        data = asdict(self, dict_factory=lambda items: {k: v.value if isinstance(v, Enum) else v for k, v in items})
        data.update(score=self.score, max_score=self.max_score)
        return data


def quiz_scale(share: float, code_points: float, quiz_points: float) -> float:
    """The factor on every question's points (scores and maxima alike) that makes the quiz ``share`` of the total.

    Applied to each question's test, so every output that adds tests up
    (terminal, results.json, the exporters, grades.csv) gets the same totals;
    a factor on points earned gives nothing to an answer that earned nothing.
    """
    if code_points <= 0 or quiz_points <= 0:
        return 1.0
    return share / (1 - share) * code_points / quiz_points
