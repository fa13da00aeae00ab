"""Which catalogued mistakes a result is: the mistakes that are mistakes on given inputs (``candidates``),
and whether a student's call is one of them exactly (``Candidate.explains``). The catalog itself
(``course.catalog``) is data; judging a result against it is grading's, with ``diagnostics``' comparisons.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from gatelab.course import mutations
from gatelab.course.catalog import Catalog, Mistake
from gatelab.course.contract import Function
from gatelab.grading import diagnostics


def candidates(catalog: Catalog, fn: Function, ref: SimpleNamespace, args: list[Any],
               expected: Any) -> tuple[list[Candidate], list[str]]:
    """(the mistakes of ``catalog`` that are mistakes on these inputs, with what they give; formulas that
    failed to run).

    A mistake is a candidate only where it is one: its result or what it
    does to the inputs differs from the reference's on these very inputs.
    A result that needs no work (a constant, an input as it was given) names
    no mistake: a submission that does nothing would earn the name. Two
    mistakes that give the same result and leave the inputs alike cannot
    be told apart by any submission: only the first in the catalog (a
    hand-written entry before a family's) is a candidate, so one bug is
    never named twice.
    """
    found: list[Candidate] = []
    failures: list[str] = []
    for mistake in catalog.for_function(fn.qualname):
        try:
            value, after = mistake.evaluate(ref, args)
        except mutations.NotApplicable:
            continue  # a mistake that cannot be made on these inputs (weights of other shapes, one step)
        except Exception as exc:  # the instructor's formula is broken for these inputs
            failures.append(f"{mistake.where}: mistake {mistake.id}: its formula {mistake.formula_name}() "
                            f"raised {type(exc).__name__}: {exc}")
            continue
        changes_inputs = any(diagnostics.equal_inputs(a, b) for a, b in zip(args, after))
        if mistake.free and not _determined(value):
            continue  # every step left open (a sequence of one step): it would explain anything
        seen = fill_free(value, expected) if mistake.free else value
        if not changes_inputs and not diagnostics.compare(fn, expected, seen) and not mistake.names_free_steps:
            continue  # on these inputs the mistake gives the right answer: it is no mistake here
        if not diagnostics.needs_work(value, args):
            continue  # a constant or an input as given: a submission doing no work returns it too
        if any(_alike(c, value, after) for c in found):
            continue
        found.append(Candidate(mistake, value, after))
    return found, failures


@dataclass(frozen=True)
class Candidate:
    """A catalogued mistake on given inputs: what it returns and what it leaves of the inputs."""

    mistake: Mistake
    value: Any
    after: list[Any]

    def explains(self, outcome: Any, tolerance: diagnostics.Tolerance = (diagnostics.RTOL, diagnostics.ATOL)) -> bool:
        """Whether the student's call is this mistake exactly: same result, same inputs afterwards. A returned
        view of an input and a copy are the same mistake (whether a result aliases an input is an aspect of its
        own, judged apart), so the mistake is named either way."""
        same_inputs = all(not diagnostics.equal_inputs(a, b) for a, b in zip(self.after, outcome.args_after))
        value = fill_free(self.value, outcome.value) if self.mistake.free else self.value
        return same_inputs and diagnostics.same(value, outcome.value, tolerance)


def _alike(candidate: Candidate, value: Any, after: list[Any]) -> bool:
    """Whether a mistake giving ``value`` and leaving ``after`` is ``candidate`` to any submission."""
    return diagnostics.same(candidate.value, value) and \
        all(not diagnostics.equal_inputs(a, b) for a, b in zip(candidate.after, after))


def _determined(value: Any) -> bool:
    """Whether every array of a family mistake's result has some entry it determines (not NaN)."""
    if isinstance(value, (tuple, list)):
        return all(_determined(v) for v in value)
    return not (isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size and np.isnan(value).all())


def fill_free(value: Any, other: Any) -> Any:
    """``value`` with its NaN entries (those a family mistake leaves undetermined) taken from ``other``,
    wherever the two have one structure and shape; elsewhere ``value`` as it is."""
    if isinstance(value, np.ndarray) and isinstance(other, np.ndarray) and value.shape == other.shape \
            and value.dtype.kind == "f" and other.dtype.kind in "fiu":
        return np.where(np.isnan(value), other, value)
    if isinstance(value, (tuple, list)) and type(value) is type(other) and len(value) == len(other):
        return type(value)(fill_free(v, o) for v, o in zip(value, other))
    return value
