"""What a target names (``grade check TARGET``): nothing (everything), a module (``<module>``), a function
(``<module>.<function>``), the quiz (``quiz``) or one question (``quiz.<id>``). One place that reads it,
for the run, the pytest plugin and watch mode."""
from __future__ import annotations

from typing import TYPE_CHECKING

from gatelab.errors import UsageError, did_you_mean
from gatelab.report.results import QUIZ

if TYPE_CHECKING:
    from gatelab.course.config import Assignment


def check_target(assignment: Assignment, target: str | None) -> None:
    """Refuse a target that names no module or function of the contract, nor the quiz."""
    contract = assignment.contract
    if target and target not in contract.modules and target not in contract.by_name and not quiz_only(target):
        raise UsageError(f"{target!r} is neither a module nor a function of the assignment, nor the quiz."
                         f"{did_you_mean(target, [*contract.modules, *contract.by_name, QUIZ])}")


def selects(target: str | None, function: str) -> bool:
    """Whether ``target`` (none, a module or a function) selects what grades ``function``."""
    return not target or target in (function, function.split(".")[0])


def quiz_only(target: str | None) -> bool:
    """Whether ``target`` names the quiz or one of its questions (and so no code)."""
    return target is not None and (target == QUIZ or target.startswith(f"{QUIZ}."))


def question(target: str | None) -> str | None:
    """The one question ``quiz.<id>`` names, or None."""
    return target.split(".", 1)[1] if quiz_only(target) and target and "." in target else None
