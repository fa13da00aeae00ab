"""The concept-question bank as data: questions, their choices and accepted answers, what one student sees
(``Variant``), and the templates their texts are written in. ``loading`` reads it from ``grader/quiz``
(validated with file:line); ``variants`` draws each student's variant.

A question has an id, a type (single, multiple, true_false, numeric,
short_text, ordering), a markdown prompt, points, tags, an explanation,
optional hints, and type-specific keys (see docs/instructor/quiz.md). Parametrized
questions draw their variables per student from a seed (the student id);
prompt, answers and feedback are jinja2 templates over those variables, so
the same student always gets the same variant. Choices and ordering items
are shown in an order shuffled per student.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import jinja2

from gatelab.report.render import StringTemplates

TYPES = ("single", "multiple", "true_false", "numeric", "short_text", "ordering")
COMMON = ("id", "type", "points", "tags", "prompt", "explanation", "hints", "variables")
SPECIFIC = {
    "single": ("choices", "shuffle"),
    "multiple": ("choices", "shuffle"),
    "true_false": ("answer", "feedback_wrong"),
    "numeric": ("answer", "tolerance", "wrong", "feedback_wrong"),
    "short_text": ("accepted", "wrong", "feedback_wrong"),
    "ordering": ("items", "feedback_wrong"),
}
MAX_VARIANTS = 512
# What rendering a question's templates for one student may raise: a fault in the bank, not in gatelab.
TEMPLATE_ERRORS = (jinja2.TemplateError, ValueError, TypeError, ArithmeticError, LookupError)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool = False
    feedback: str = ""


@dataclass(frozen=True)
class Accepted:
    """An accepted short answer: plain text (normalised) or a regex with an example it must match."""

    text: str
    regex: bool = False
    example: str = ""


@dataclass(frozen=True)
class WrongAnswer:
    """A common wrong answer and what to say about it (numeric value template, or text/regex)."""

    answer: str
    feedback: str
    regex: bool = False


@dataclass(frozen=True)
class Question:
    """One question as written in the bank (templates not yet rendered)."""

    id: str
    type: str
    prompt: str
    explanation: str
    where: str
    points: float = 1.0
    tags: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    variables: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    choices: tuple[Choice, ...] = ()
    shuffle: bool = True
    answer: Any = None
    tolerance: tuple[str, float] = ("abs", 0.0)
    accepted: tuple[Accepted, ...] = ()
    wrong: tuple[WrongAnswer, ...] = ()
    items: tuple[str, ...] = ()
    feedback_wrong: str = ""
    solved_digest: str = ""  # locked copies only: digest of the right order (items are stored sorted)

    @property
    def variant_count(self) -> int:
        count = 1
        for _, values in self.variables:
            count *= len(values)
        return count

    def all_values(self) -> list[dict[str, Any]]:
        """Every combination of variable values (the variants), in a fixed order."""
        names = [name for name, _ in self.variables]
        return [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in self.variables))]


@dataclass
class Variant:
    """A question as one student sees it: variable values and the display order of choices/items."""

    question: Question
    values: dict[str, Any]
    order: list[int] = field(default_factory=list)

    def letter_of(self, index: int) -> str:
        """The letter a student sees for the original choice/item ``index``."""
        return LETTERS[self.order.index(index)]


class Templates:
    """Renders the bank's jinja2 strings (StrictUndefined: a typo in a variable is an error)."""

    def __init__(self) -> None:
        self.templates = StringTemplates(undefined=jinja2.StrictUndefined, autoescape=False)

    def render(self, text: str, values: dict[str, Any]) -> str:
        if "{{" not in text and "{%" not in text:
            return text
        return self.templates.get(text).render(**values)

    def number(self, value: Any, values: dict[str, Any]) -> float:
        """A numeric answer: a number, or a template that renders to one."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return float(self.render(str(value), values).strip())


@dataclass(frozen=True)
class Bank:
    """Every question, in file order."""

    questions: tuple[Question, ...] = ()

    def get(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def ids(self) -> list[str]:
        return [q.id for q in self.questions]
