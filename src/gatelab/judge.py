"""Judging one contract function on one case: call the student, compare, explain.

The judge lives in the trusted process. It asks the sandbox for the
student's result, computes the reference itself, and turns every
difference into feedback. A composite (``lstm_cell_forward``, ``*_forward``,
...) that misses the reference is judged again against the reference
*built from the student's own parts*: a wrong forget gate costs the forget
gate's tests, not every test downstream of it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from gatelab import diagnostics
from gatelab.cases import Case, make_args
from gatelab.contract import BY_NAME, Function, lookup
from gatelab.reference import Reference
from gatelab.render import Renderer
from gatelab.sandbox import Outcome, Sandbox



@dataclass
class Verdict:
    """Whether a test passed, and what to tell the student either way."""

    passed: bool
    feedback: str = ""
    output: str = ""
    notes: list[str] = field(default_factory=list)


class _PartFailed(Exception):
    pass


class Judge:
    """Grades contract functions of one submission against the reference."""

    def __init__(self, sandbox: Sandbox, reference: Reference, renderer: Renderer, seed: int) -> None:
        self.sandbox = sandbox
        self.reference = reference
        self.renderer = renderer
        self.seed = seed

    def call(self, fn: Function, args: list[Any]) -> Outcome:
        """The student's ``fn(*args)``, run in the sandbox."""
        return self.sandbox.call(fn.module, fn.name, args)

    def expected(self, fn: Function, args: list[Any]) -> Any:
        """The reference result, on a copy of the inputs."""
        return self.reference.function(fn.qualname)(*copy.deepcopy(args))

    def check(self, fn: Function, case: Case) -> Verdict:
        """Grade ``fn`` on ``case``: result, shape, dtype, values, and untouched inputs."""
        args = make_args(fn, case, self.seed)
        outcome = self.call(fn, args)
        if not outcome.ok:
            notes = self._against_own_parts(fn, args, None, [])[1] if outcome.status == "raised" else []
            return Verdict(False, "\n".join([self.explain_outcome(fn, outcome), *notes]), outcome.output, notes)
        expected = self.expected(fn, args)
        problems = diagnostics.compare(fn, expected, outcome.value)
        notes: list[str] = []
        if problems and fn.parts:
            problems, notes = self._against_own_parts(fn, args, outcome.value, problems)
        if problems:
            notes += self._conventions(fn, args, outcome.value)
        messages = [self.renderer.feedback(p.kind, quantity=p.quantity, **p.details) for p in problems]
        input_messages = self._input_problems(fn, args, outcome)
        passed = not problems and not input_messages
        return Verdict(passed, "\n".join(messages + input_messages + notes), outcome.output, notes)

    def _input_problems(self, fn: Function, args: list[Any], outcome: Outcome) -> list[str]:
        messages = []
        changed = [name + path for name, sent, back in zip(fn.arg_names, args, outcome.args_after)
                   for path in diagnostics.equal_inputs(sent, back)]
        if changed:
            messages.append(self.renderer.feedback("mutated", qualname=fn.qualname, names=changed))
        if outcome.aliases:
            messages.append(self.renderer.feedback("aliased", qualname=fn.qualname))
        if fn.warn_free and outcome.warnings:
            messages.append(self.renderer.feedback("warned", qualname=fn.qualname, warnings=outcome.warnings))
        return messages

    def _conventions(self, fn: Function, args: list[Any], got: Any) -> list[str]:
        """Feedback for results that follow another library's convention rather than the lesson's."""
        if fn.qualname == "gru.hidden_state":
            h_prev, z, h_tilde = args
            if not diagnostics.compare(fn, z * h_prev + (1.0 - z) * h_tilde, got):
                return [self.renderer.feedback("gru_convention", qualname=fn.qualname)]
        return []

    def _against_own_parts(self, fn: Function, args: list[Any], got: Any,
                           problems: list[diagnostics.Problem]) -> tuple[list[diagnostics.Problem], list[str]]:
        """Re-judge a composite against the reference built from the student's own parts.

        With ``got`` None (the composite raised), only find which parts are wrong.
        """
        if not fn.parts:
            return problems, []
        wrong: list[str] = []
        parts = {name: self._proxy(lookup(name), wrong) for name in fn.parts}
        try:
            own = self.reference.composed(fn, parts)(*copy.deepcopy(args))
        except Exception:  # a student part failed or returned something unusable
            own = None
        wrong = sorted(set(wrong))
        if own is not None and wrong and got is not None:
            own_problems = diagnostics.compare(fn, own, got)
            if not own_problems:
                return [], [self.renderer.feedback("own_parts", qualname=fn.qualname, wrong=wrong)]
        if wrong:
            return problems, [self.renderer.feedback("upstream", qualname=fn.qualname, wrong=wrong)]
        return problems, []

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
