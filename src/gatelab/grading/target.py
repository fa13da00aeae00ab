"""What a target names (``grade check TARGET``): nothing (everything), a module (``<module>``), a function
(``<module>.<function>``), the quiz (``quiz``) or one question (``quiz.<id>``). Read once into a ``Target``,
whose answers the run, the pytest plugin and watch mode share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gatelab.errors import UsageError, did_you_mean
from gatelab.report.results import QUIZ

if TYPE_CHECKING:
    from gatelab.course.config import Assignment


@dataclass(frozen=True)
class Target:
    """A target as written (None: everything), and what it selects."""

    text: str | None = None

    @classmethod
    def parse(cls, assignment: Assignment, text: str | None) -> Target:
        """``text`` as a target of ``assignment``; refuses one that names no module or function of the contract,
        nor the quiz, saying what it likely meant."""
        target = cls(text)
        contract = assignment.contract
        if text and text not in contract.modules and text not in contract.by_name and not target.quiz_only:
            raise UsageError(f"{text!r} is neither a module nor a function of the assignment, nor the quiz."
                             f"{did_you_mean(text, [*contract.modules, *contract.by_name, QUIZ])}")
        return target

    def selects(self, function: str) -> bool:
        """Whether this target selects what grades ``function`` (a contract function, or ``quiz.<id>``)."""
        return not self.text or self.text in (function, function.split(".")[0])

    @property
    def scope(self) -> str | None:
        """The module it lies in (``quiz`` for the quiz and its questions); None for everything."""
        return self.text.split(".")[0] if self.text else None

    @property
    def quiz_only(self) -> bool:
        """Whether it names the quiz or one of its questions (and so no code)."""
        return self.scope == QUIZ

    @property
    def question(self) -> str | None:
        """The one question ``quiz.<id>`` names, or None."""
        return self.text.split(".", 1)[1] if self.quiz_only and self.text and "." in self.text else None
