"""Judging one aspect of one contract function: call the student, compare, explain.

The judge lives in the trusted process. It asks the sandbox for the
student's result (once per function and case: aspects share the call),
computes the reference itself, and turns every difference into feedback:

- a known mistake from the catalog, when the student's result equals its formula's;
- for a composite (``lstm_cell_forward``, ``*_forward``...), a second judgement
  against the reference *built from the student's own parts*, so a wrong
  forget gate costs the forget gate's points, not every test downstream;
- otherwise what differs and where (``diagnostics``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from gatelab import diagnostics
from gatelab.cases import Case, make_args
from gatelab.catalog import Catalog, reference_namespace
from gatelab.config import VALUES, TestSpec
from gatelab.contract import BY_NAME, Function, lookup
from gatelab.reference import Reference
from gatelab.render import Renderer
from gatelab.sandbox import Outcome, Sandbox

STRUCTURE = {"type", "keys", "shape"}
SHAPE_AND_DTYPE = STRUCTURE | {"dtype"}
VALUE_KINDS = STRUCTURE | {"not_finite", "values", "number"}


@dataclass
class Verdict:
    """Whether a test passed, and what to tell the student either way."""

    passed: bool
    feedback: str = ""
    output: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Trial:
    """One call of a function on one case, shared by every aspect judged on it."""

    args: list[Any]
    outcome: Outcome
    expected: Any = None


class _PartFailed(Exception):
    pass


class Judge:
    """Grades contract functions of one submission against the reference."""

    def __init__(self, sandbox: Sandbox, reference: Reference, renderer: Renderer, seed: int,
                 catalog: Catalog = Catalog()) -> None:
        self.sandbox = sandbox
        self.reference = reference
        self.renderer = renderer
        self.seed = seed
        self.catalog = catalog
        self.ref = reference_namespace(reference.modules)
        self._trials: dict[tuple[str, str], Trial] = {}

    def call(self, fn: Function, args: list[Any]) -> Outcome:
        """The student's ``fn(*args)``, run in the sandbox."""
        return self.sandbox.call(fn.module, fn.name, args)

    def expected(self, fn: Function, args: list[Any]) -> Any:
        """The reference result, on a copy of the inputs."""
        return self.reference.function(fn.qualname)(*copy.deepcopy(args))

    def trial(self, fn: Function, case: Case) -> Trial:
        """The student's call on ``case`` (made once, then shared by all aspects)."""
        key = (fn.qualname, case.name)
        if key not in self._trials:
            args = make_args(fn, case, self.seed)
            outcome = self.call(fn, args)
            self._trials[key] = Trial(args, outcome, self.expected(fn, args) if outcome.ok else None)
        return self._trials[key]

    def check(self, spec: TestSpec) -> Verdict:
        """Grade one test: the values on one case, or an aspect over all the function's cases."""
        if spec.aspect == VALUES:
            trial = self.trial(spec.function, spec.case)
            if not trial.outcome.ok:
                return self._did_not_return(spec.function, trial)
            return self._values(spec.function, trial)
        judge_one = self._shape_and_dtype if spec.aspect == "shape_and_dtype" else self._inputs_unchanged
        trials = [self.trial(spec.function, case) for case in spec.cases]
        returned = [t for t in trials if t.outcome.ok]
        if not returned:
            return self._did_not_return(spec.function, trials[0])
        notes: list[str] = []
        for trial in returned:
            verdict = judge_one(spec.function, trial)
            if not verdict.passed:
                return verdict
            notes.extend(n for n in verdict.notes if n not in notes)
        return Verdict(True, "\n".join(notes), "", notes)

    def _did_not_return(self, fn: Function, trial: Trial) -> Verdict:
        outcome = trial.outcome
        notes = self._wrong_parts_note(fn, trial.args) if outcome.status == "raised" else []
        return Verdict(False, "\n".join([self.explain_outcome(fn, outcome), *notes]), outcome.output, notes)

    def _values(self, fn: Function, trial: Trial) -> Verdict:
        got = trial.outcome.value
        problems = [p for p in diagnostics.compare(fn, trial.expected, got) if p.kind in VALUE_KINDS]
        warned = fn.warn_free and trial.outcome.warnings
        if not problems and not warned:
            return Verdict(True)
        if not warned:
            own = self._own_parts_verdict(fn, trial)
            if own is not None:
                return own
        messages = self._describe(fn, trial, problems)
        if warned:
            messages.append(self.renderer.feedback("warned", qualname=fn.qualname, warnings=trial.outcome.warnings))
        notes = self._wrong_parts_note(fn, trial.args) if problems else []
        return Verdict(False, "\n".join(messages + notes), trial.outcome.output, notes)

    def _shape_and_dtype(self, fn: Function, trial: Trial) -> Verdict:
        problems = [p for p in diagnostics.compare(fn, trial.expected, trial.outcome.value)
                    if p.kind in SHAPE_AND_DTYPE]
        if not problems:
            return Verdict(True)
        own = self._own_parts_verdict(fn, trial)
        if own is not None:
            return own
        messages = self._describe(fn, trial, problems)
        notes = self._wrong_parts_note(fn, trial.args)
        return Verdict(False, "\n".join(messages + notes), trial.outcome.output, notes)

    def _inputs_unchanged(self, fn: Function, trial: Trial) -> Verdict:
        outcome = trial.outcome
        messages = []
        changed = [name + path for name, sent, back in zip(fn.arg_names, trial.args, outcome.args_after)
                   for path in diagnostics.equal_inputs(sent, back)]
        if changed:
            messages.append(self.renderer.feedback("mutated", qualname=fn.qualname, names=changed))
        if outcome.aliases:
            messages.append(self.renderer.feedback("aliased", qualname=fn.qualname))
        if not messages:
            return Verdict(True)
        return Verdict(False, "\n".join(self._named_mistakes(fn, trial) + messages), outcome.output)

    def _describe(self, fn: Function, trial: Trial, problems: list[diagnostics.Problem]) -> list[str]:
        """A named mistake and the first difference, or, when none is named, every difference."""
        if not problems:
            return []
        named = self._named_mistakes(fn, trial)
        return named + [self._render(problems[0])] if named else [self._render(p) for p in problems]

    def _render(self, problem: diagnostics.Problem) -> str:
        return self.renderer.feedback(problem.kind, quantity=problem.quantity, **problem.details)

    def _named_mistakes(self, fn: Function, trial: Trial) -> list[str]:
        """Feedback for every catalog mistake that reproduces the student's result exactly."""
        found = self.catalog.match(fn, self.ref, trial.args, trial.outcome.value, trial.outcome.args_after)
        return [self.renderer.feedback("mistake", id=m.id, feedback=m.feedback, lesson=m.lesson) for m in found]

    def _own_parts_verdict(self, fn: Function, trial: Trial) -> Verdict | None:
        """A pass, with a note, when a composite equals the reference built from the student's own parts."""
        if not fn.parts:
            return None
        own, wrong = self._compose_over_own_parts(fn, trial.args)
        if own is None or not wrong or diagnostics.compare(fn, own, trial.outcome.value):
            return None
        note = self.renderer.feedback("own_parts", qualname=fn.qualname, wrong=wrong)
        return Verdict(True, note, "", [note])

    def _wrong_parts_note(self, fn: Function, args: list[Any]) -> list[str]:
        if not fn.parts:
            return []
        wrong = self._compose_over_own_parts(fn, args)[1]
        return [self.renderer.feedback("upstream", qualname=fn.qualname, wrong=wrong)] if wrong else []

    def _compose_over_own_parts(self, fn: Function, args: list[Any]) -> tuple[Any, list[str]]:
        """(reference result over the student's parts or None, the parts that were wrong on the way)."""
        wrong: list[str] = []
        parts = {name: self._proxy(lookup(name), wrong) for name in fn.parts}
        try:
            own = self.reference.composed(fn, parts)(*copy.deepcopy(args))
        except Exception:  # a student part failed or returned something unusable
            own = None
        return own, sorted(set(wrong))

    def _proxy(self, part: Function, wrong: list[str]) -> Callable[..., Any]:
        """A stand-in for ``part`` that calls the student's version and notes when it is wrong."""

        def call(*args: Any) -> Any:
            outcome = self.call(part, list(args))
            if not outcome.ok:
                wrong.append(part.qualname)
                raise _PartFailed(part.qualname)
            if diagnostics.compare(part, self.expected(part, list(args)), outcome.value):
                wrong.append(part.qualname)
            return outcome.value

        return call

    def explain_outcome(self, fn: Function, outcome: Outcome) -> str:
        """Feedback for a call that did not return: it raised, hung, crashed, or was never found."""
        render = self.renderer.feedback
        error = outcome.error
        if outcome.status == "raised" and error.get("type") == "NotImplementedError":
            return render("not_implemented", qualname=fn.qualname, hint=error.get("message", ""))
        if outcome.status == "raised":
            return render("raised", qualname=fn.qualname, type=error.get("type", "?"),
                          message=error.get("message", ""), frames=error.get("frames", []),
                          upstream=_upstream(fn, error.get("frames", [])))
        if outcome.status == "import_error":
            return render("import_error", module=fn.module, type=error.get("type", "?"),
                          message=error.get("message", ""), frames=error.get("frames", []))
        if outcome.status == "missing":
            return render("missing", message=outcome.message)
        if outcome.status == "crashed":
            return render("crashed", qualname=fn.qualname, message=outcome.message, phase=outcome.phase)
        return render(outcome.status, qualname=fn.qualname, message=outcome.message)


def _upstream(fn: Function, frames: list[dict[str, Any]]) -> str:
    """The other contract function where an error was raised, if it was not ``fn`` itself."""
    for frame in reversed(frames):
        qualname = f"{frame['file'].removesuffix('.py')}.{frame['function']}"
        if qualname in BY_NAME:
            return "" if qualname == fn.qualname else qualname
    return ""
