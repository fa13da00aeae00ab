"""Judging one aspect of one contract function: call the student, compare, explain.

The judge lives in the trusted process. It asks the sandbox for the
student's result (once per function and case: aspects share the call),
computes the reference itself, and turns every difference into feedback.
What a function earns is its own correct work, and nothing else:

- **values** on a case: the student's result equals the reference's. A
  composite (a function the contract builds from parts) whose result is
  wrong is called again with its *parts served* by the grader (the worker
  asks, the trusted side answers with the reference's values), so a wrong
  part costs the part's points, not the composite's, while a constant or an
  echo of an input stays wrong whatever its parts do.
- **evidence**: a case whose right answer needs no work (every array in it
  constant, or equal to an input) pays only once the function is right on a
  case that does need work.
- **aspects** (``shape_and_dtype``, ``inputs_unchanged``) are judged only on
  the cases where the values are right, and pay nothing until the values
  are right on a case that needs work.

Feedback names a catalogued mistake only where it is true (see ``catalog``),
and a visible test never quotes a hidden case.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from gatelab.course.case import Case
from gatelab.course.config import ASPECTS, VALUES, Assignment, TestSpec
from gatelab.course.contract import Contract, Function
from gatelab.grading import diagnostics, gradcheck, likeness, shapenames
from gatelab.grading.oracle import Oracle
from gatelab.grading.sandbox import CallStatus, Outcome, Sandbox
from gatelab.grading.trials import (
    STRUCTURE,
    VALUE_KINDS,
    Trial,
    Trials,
    contract_frames,
    not_implemented,
    not_written,
    upstream,
)
from gatelab.report.render import Renderer
from gatelab.report.results import Cause

SHAPE_AND_DTYPE = STRUCTURE | {"dtype"}
# The feedback macro that explains a call that did not return, by what happened (feedback.j2).
MACROS = {CallStatus.RAISED: "raised", CallStatus.MISSING: "missing", CallStatus.IMPORT_ERROR: "import_error",
          CallStatus.TIMEOUT: "timeout", CallStatus.CRASHED: "crashed", CallStatus.PROTOCOL: "protocol",
          CallStatus.SKIPPED: "skipped", CallStatus.BUDGET: "budget"}
SYNTAX_ERRORS = {"SyntaxError", "IndentationError", "TabError"}  # Python's, as an import error names them
NUMERIC_WARNING = "RuntimeWarning"  # numpy's overflow, invalid value, divide by zero: what a ``quiet`` hint explains


@dataclass
class Verdict:
    """Whether a test passed, and what to tell the student either way."""

    passed: bool
    feedback: str = ""
    output: str = ""
    notes: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)  # ids of the catalog mistakes the feedback names
    judged: bool = True  # False: an aspect not judged yet, because the function's values are not right anywhere
    cause: Cause = Cause.NONE  # why the function gave nothing to judge, as data (see :meth:`Judge.cause_of`)
    cause_file: str = ""
    wrong_output: str = ""  # the function's own wrong values as a digest (see ``likeness``); "" when right


class Judge:
    """Grades contract functions of one submission against an oracle (the reference, or its recording)."""

    def __init__(self, sandbox: Sandbox, oracle: Oracle, renderer: Renderer, assignment: Assignment,
                 include_hidden: bool = True) -> None:
        self.sandbox = sandbox
        self.oracle = oracle
        self.renderer = renderer
        self.contract: Contract = assignment.contract
        self.ref = oracle.namespace  # the reference's modules, where they are here (not in a student release)
        self.instructor_notes: list[str] = []  # assignment defects met while judging (a formula that raised)
        self.trials = Trials(sandbox, oracle, assignment, include_hidden)
        self._named: list[str] = []  # mistake ids named while judging the current test
        self._import_errors: dict[tuple[Any, ...], str] = {}  # an import error, and the function first shown it

    # --- tests -------------------------------------------------------------------------------------

    def verdict(self, spec: TestSpec) -> Verdict:
        """Grade one test: the values on one case, or an aspect over the function's cases."""
        self._named = []
        if spec.aspect == VALUES:
            verdict = self._values(spec.function, self.trials.trial(spec.function, spec.case))
        else:
            verdict = self._aspect(spec)
        verdict.mistakes = list(dict.fromkeys(self._named)) if not verdict.passed else []
        return verdict

    def _cases_of(self, spec: TestSpec) -> list[Case]:
        run = self.trials.cases.get(spec.function.qualname)
        return [c for c in spec.cases if c in run] if run else list(spec.cases)

    def _evidence(self, fn: Function) -> bool:
        """Whether ``fn`` is right on at least one case of this run whose answer needs work."""
        return any(t.right is not None and t.needs_work
                   for t in (self.trials.trial(fn, case) for case in self.trials.cases.get(fn.qualname, ())))

    def _values(self, fn: Function, trial: Trial) -> Verdict:
        output = trial.outcome.output
        if trial.right is None:
            failed = self._failed_call(trial)
            cause, where = self.cause_of(fn, failed) if failed is not None else (Cause.NONE, "")
            return Verdict(False, self._wrong_values(fn, trial), output, cause=cause, cause_file=where,
                           wrong_output=_own_wrong_values(trial))
        if not trial.needs_work and not self._evidence(fn):
            return Verdict(False, self.renderer.feedback("no_evidence", qualname=fn.qualname), output)
        if trial.right is trial.outcome:
            return Verdict(True, "", output)
        rounding = trial.outcome.ok and diagnostics.within_rounding(trial.expected, trial.outcome.value)
        note = self.renderer.feedback("own_parts", qualname=fn.qualname, wrong=trial.wrong_parts,
                                      parts=list(fn.parts), dtypes=trial.part_dtypes, rounding=rounding)
        return Verdict(True, note, output, [note])

    def _wrong_values(self, fn: Function, trial: Trial) -> str:
        """Why the values are wrong: the student's own call, or the composite's own work with right parts."""
        about_parts = [self.renderer.feedback("upstream", qualname=fn.qualname, wrong=trial.wrong_parts)] \
            if trial.wrong_parts else []
        failing = self._parts_failing_their_tests(fn) if fn.parts and (trial.unrecorded or not
                                                                        self.oracle.serves_parts) else []
        if failing:  # a student release that cannot serve this call, and a part already fails its own tests
            return self.renderer.feedback("parts_not_served", qualname=fn.qualname, failing=failing,
                                          unrecorded=trial.unrecorded)
        if trial.refused:
            about_parts.append(self.renderer.feedback("part_refused", qualname=fn.qualname, why=trial.refused))
        checked = self._gradient_check(fn, trial, trial.outcome) if trial.outcome.ok else []
        served = trial.served
        if served is not None and served.ok and trial.wrong_parts:
            lead = self.renderer.feedback("with_served_parts", qualname=fn.qualname, parts=trial.wrong_parts)
            return "\n".join([*about_parts, *checked, lead, *self._describe(fn, trial, served)])  # check: own parts
        outcome = self._failed_call(trial) or trial.outcome
        if not outcome.ok:
            explained = self.explain_outcome(fn, outcome, trial.case)
            return "\n".join([explained] if self._explains_itself(fn, outcome) else [*about_parts, explained])
        messages = self._describe(fn, trial, outcome, then=checked)
        if trial.warned:
            numeric = any(w.startswith(NUMERIC_WARNING) for w in outcome.warnings)  # what ``quiet`` is about
            messages.append(self.renderer.feedback("warned", qualname=fn.qualname, warnings=outcome.warnings,
                                                   hint=(fn.quiet or "") if numeric else ""))
        return "\n".join(about_parts + messages)

    def _gradient_check(self, fn: Function, trial: Trial, outcome: Outcome) -> list[str]:
        """For a backward function with wrong values: whether its derivatives are the derivative of the student's
        own forward pass (``gradcheck``), said as which of the two passes holds the mistake."""
        if fn.gradient_of is None:
            return []
        forward = self.contract.lookup(fn.gradient_of.function)
        found = gradcheck.probes(self.contract, fn, trial.args, outcome.value, f"{fn.qualname}:{trial.case.name}")
        if not found:
            return []
        calls = [(forward.module, forward.name, args) for probe in found for args in (probe.plus, probe.minus)]
        made = self.sandbox.call_many(calls, trial.lane)
        results = [o if o is not None else self.sandbox.call(m, n, a, lane=trial.lane)
                   for o, (m, n, a) in zip(made, calls)]
        values: list[tuple[Any, Any] | str] = []
        for up, down in zip(results[::2], results[1::2]):
            failed = next((o for o in (up, down) if not o.ok), None)
            values.append((up.value, down.value) if failed is None else
                          self.explain_outcome(forward, failed, trial.case).splitlines()[0])
        check = gradcheck.settle(fn, trial.args, found, values)
        return [self.renderer.feedback("gradient_check", qualname=fn.qualname, forward=check.forward,
                                       agree=check.agree, disagree=check.disagree, flat=check.flat,
                                       failed=check.failed, forward_wrong=self._fails_own_tests(forward))]

    def _fails_own_tests(self, fn: Function) -> bool:
        """Whether ``fn`` is wrong on one of its own cases in this run."""
        return any(self.trials.trial(fn, case).right is None for case in self.trials.cases.get(fn.qualname, ()))

    @staticmethod
    def _failed_call(trial: Trial) -> Outcome | None:
        """The call whose failure explains a trial's wrong values: the student's own, or the served-parts call
        made in its place (own call skipped); None when the call returned (its values are what is wrong)."""
        outcome = trial.outcome
        if outcome.status is CallStatus.SKIPPED and trial.served is not None and not trial.served.ok:
            outcome = trial.served
        return None if outcome.ok else outcome

    def cause_of(self, fn: Function, outcome: Outcome) -> tuple[Cause, str]:
        """Why a call of ``fn`` gave nothing to judge, and the file where that lies, as data: a failed import
        (by kind), a missing file or function, the exercise's stub; NONE for what the function did itself."""
        error, module_file = outcome.error, f"{fn.module}.py"
        frames = error.get("frames") or []
        last_file = _where(fn, frames)[0]
        if not_written(self.contract, fn, outcome):
            return Cause.STUB, module_file
        if outcome.status is CallStatus.MISSING:
            missing = Cause.MISSING_FUNCTION if error.get("missing") == "function" else Cause.MISSING_FILE
            return missing, str(error.get("file") or module_file)
        if outcome.phase != "import":
            return Cause.NONE, ""
        if outcome.status is CallStatus.IMPORT_ERROR:
            syntax = error.get("type") in SYNTAX_ERRORS
            return (Cause.IMPORT_SYNTAX if syntax else Cause.IMPORT_RAISED), last_file
        if outcome.status is CallStatus.TIMEOUT:
            return Cause.IMPORT_HANG, last_file
        if outcome.status is CallStatus.CRASHED:
            return Cause.IMPORT_CRASH, last_file
        return Cause.NONE, ""

    def _parts_failing_their_tests(self, fn: Function) -> list[str]:
        """The parts of ``fn`` that are wrong on one of their own cases in this run."""
        return [part for part in fn.parts if self._fails_own_tests(self.contract.lookup(part))]

    def _aspect(self, spec: TestSpec) -> Verdict:
        fn = spec.function
        trials = [self.trials.trial(fn, case) for case in self._cases_of(spec)]
        if not any(t.right is not None and t.needs_work for t in trials) and not self._evidence(fn):
            returned = any(t.outcome.ok or (t.served is not None and t.served.ok) for t in trials)
            return Verdict(False, self.renderer.feedback("aspect_unearned", qualname=fn.qualname,
                                                         aspect=ASPECTS[spec.aspect], returned=returned),
                           judged=False)
        judge_one = self._shape_and_dtype if spec.aspect == "shape_and_dtype" else self._inputs_unchanged
        notes: list[str] = []
        for trial in trials:
            if trial.right is None:
                continue
            messages = judge_one(fn, trial, trial.right)
            if messages and self._holds_with_served_parts(fn, trial, judge_one):
                note = self.renderer.feedback("own_parts", qualname=fn.qualname, wrong=trial.wrong_parts,
                                              parts=list(fn.parts), dtypes=trial.part_dtypes)
                notes += [note] if note not in notes else []
                continue
            if not messages:
                continue
            if spec.visibility == "visible" and trial.case.name not in self.trials.public.get(fn.qualname, set()):
                return Verdict(False, self.renderer.feedback("hidden_case", qualname=fn.qualname,
                                                             aspect=ASPECTS[spec.aspect]))
            return Verdict(False, "\n".join(messages), trial.right.output)
        return Verdict(True, "\n".join(notes), "", notes)

    def _holds_with_served_parts(self, fn: Function, trial: Trial,
                                 judge_one: Callable[[Function, Trial, Outcome], list[str]]) -> bool:
        """Whether an aspect that fails on the student's own parts holds for the composite's own work."""
        if trial.right is not trial.outcome:
            return False
        served = self.trials.served(fn, trial)
        return served is not None and self.trials.right(fn, trial, served) and not judge_one(fn, trial, served)

    def _shape_and_dtype(self, fn: Function, trial: Trial, outcome: Outcome) -> list[str]:
        return self._describe(fn, trial, outcome, SHAPE_AND_DTYPE)

    def _inputs_unchanged(self, fn: Function, trial: Trial, outcome: Outcome) -> list[str]:
        messages = []
        changed = [name + path for name, sent, back in zip(fn.arg_names, trial.args, outcome.args_after)
                   for path in diagnostics.equal_inputs(sent, back)]
        if changed:
            messages.append(self.renderer.feedback("mutated", qualname=fn.qualname, names=changed))
        if outcome.aliases:
            messages.append(self.renderer.feedback("aliased", qualname=fn.qualname))
        return self._named_mistakes(fn, trial, outcome) + messages if messages else []

    # --- words -------------------------------------------------------------------------------------

    def _describe(self, fn: Function, trial: Trial, outcome: Outcome, kinds: set[str] = VALUE_KINDS,
                  then: Sequence[str] = ()) -> list[str]:
        """A named mistake and the first difference, or, when none is named, every difference (and the
        argument the result is, when it is one of them as given); ``then`` (a gradient check's verdict, say)
        follows the named mistake and comes before the differences."""
        problems = [p for p in diagnostics.compare(fn, trial.expected, outcome.value) if p.kind in kinds]
        if not problems:
            return list(then)
        named = self._named_mistakes(fn, trial, outcome)
        if named:
            return named + list(then) + [self._render(problems[0])]
        echoed = [name for name, arg in zip(fn.arg_names, trial.args) if diagnostics.same(arg, outcome.value)]
        echo = [self.renderer.feedback("echo", qualname=fn.qualname, argument=echoed[0])] if echoed and \
            kinds is VALUE_KINDS else []
        return list(then) + [self._render(p) for p in problems] + echo

    def _render(self, problem: diagnostics.Problem) -> str:
        extra = {"hint": self.contract.shape_hint("transposed")} if problem.kind == "shape" else {}
        return self.renderer.feedback(problem.kind, quantity=problem.quantity, **problem.details, **extra)

    def _named_mistakes(self, fn: Function, trial: Trial, outcome: Outcome) -> list[str]:
        """Feedback for every catalog mistake that is a mistake on these inputs and explains the result."""
        if trial.candidates is None:
            trial.candidates, failures = self.oracle.candidates(fn.qualname, trial.case, trial.args, trial.expected)
            for failure in failures:
                note = f"{failure} (on case {trial.case.name})"
                if note not in self.instructor_notes:
                    self.instructor_notes.append(note)
        found = [c.mistake for c in trial.candidates if c.explains(outcome, diagnostics.strictest(fn))]
        self._named.extend(m.id for m in found)
        return [self.renderer.feedback("mistake", id=m.id, feedback=m.feedback, lesson=m.lesson) for m in found]

    # --- for instructors' own tests ---------------------------------------------------------------

    def difference(self, quantity: str, expected: Any, got: Any, rtol: float, atol: float) -> str:
        """How ``got`` differs from ``expected``, in the judge's words; empty when they agree."""
        problems = diagnostics.compare_value(quantity, expected, got, rtol, atol)
        return "\n".join(self._render(p) for p in problems)

    def _import_error(self, fn: Function, error: dict[str, Any]) -> str:
        """The whole import error under the first function it stops; one line under every later one."""
        frames = error.get("frames", [])
        file, line = _where(fn, frames)
        key = (error.get("type", "?"), error.get("message", ""), file, line)
        first = self._import_errors.setdefault(key, fn.qualname)
        if first != fn.qualname:
            return self.renderer.feedback("import_error_again", qualname=fn.qualname, module=fn.module,
                                          type=key[0], file=file, line=line, first=first)
        return self.renderer.feedback("import_error", module=fn.module, type=key[0], message=key[1], frames=frames)

    def _crashed(self, fn: Function, outcome: Outcome) -> str:
        """A worker that ended in a call of ``fn`` or in importing its module, with the lines where it ended
        when the worker wrote them down; an import's ending in full under the first function it stops."""
        frames = outcome.error.get("frames") or []
        file, line = _where(fn, frames)
        signal = str(outcome.error.get("signal") or "")
        first = fn.qualname
        if outcome.phase == "import":
            first = self._import_errors.setdefault(("crashed", outcome.message, file, line), fn.qualname)
        return self.renderer.feedback("crashed", qualname=fn.qualname, module=fn.module, message=outcome.message,
                                      phase=outcome.phase, frames=frames, file=file, signal=signal,
                                      first="" if first == fn.qualname else first)

    def _explains_itself(self, fn: Function, outcome: Outcome) -> bool:
        """Whether the explanation of a failed call says all there is (another function at fault, or the
        function not written yet), so the advice about wrong parts would only be noise."""
        if outcome.status is CallStatus.IMPORT_ERROR or not_implemented(outcome):
            return True  # nothing ran, or not written yet (by the function itself, or by the part it names)
        frames = outcome.error.get("frames", [])
        if outcome.status is CallStatus.TIMEOUT:
            return bool(self._hung_in(fn, frames))
        return outcome.status is CallStatus.RAISED and bool(upstream(self.contract, fn, frames))

    def _hung_in(self, fn: Function, frames: list[dict[str, Any]]) -> str:
        """The other contract function to blame for a call of ``fn`` that hung: of those it was running when
        stopped, the outermost that fails its own tests (where the stack was caught says little: a loop that
        never ends spends its time in whatever it calls)."""
        for qualname in contract_frames(self.contract, frames):
            other = self.contract.lookup(qualname)
            if qualname != fn.qualname and any(self.trials.trial(other, case).right is None
                                               for case in self.trials.cases.get(qualname, ())):
                return qualname
        return ""

    def explain_outcome(self, fn: Function, outcome: Outcome, case: Case | None = None) -> str:
        """Feedback for a call that did not return: it raised, hung, crashed, or was never found (on ``case``,
        when known: the shapes an error names are then said in the contract's symbols)."""
        render = self.renderer.feedback
        error = outcome.error
        if not_implemented(outcome):
            return render("not_implemented", qualname=fn.qualname, hint=error.get("message", ""),
                          upstream=upstream(self.contract, fn, error.get("frames", [])))
        if outcome.status is CallStatus.RAISED:
            type_name, message = error.get("type", "?"), error.get("message", "")
            culprit = upstream(self.contract, fn, error.get("frames", []))
            values = {**dict(self.contract.variables), **dict(case.values)} if case is not None else {}
            shapes = shapenames.translate(self.contract, fn, values, message) if values and not culprit else None
            return render("raised", qualname=fn.qualname, type=type_name, message=message,
                          frames=error.get("frames", []), upstream=culprit,
                          hint=self.contract.error_hint(type_name, message), shapes=shapes)
        if outcome.status is CallStatus.IMPORT_ERROR:
            return self._import_error(fn, error)
        if outcome.status is CallStatus.MISSING:
            return render("missing", message=outcome.message)
        if outcome.status is CallStatus.TIMEOUT:
            frames = error.get("frames", [])
            return render("timeout", qualname=fn.qualname, message=outcome.message, frames=frames,
                          upstream=self._hung_in(fn, frames))
        if outcome.status is CallStatus.CRASHED:
            return self._crashed(fn, outcome)
        return render(MACROS[outcome.status], qualname=fn.qualname, message=outcome.message)


def _own_wrong_values(trial: Trial) -> str:
    """The digest of what the function itself computed wrong on this case: its own call when its parts were
    right, the call with its parts served when they were not (a wrong part is the part's mistake, not this
    function's); "" when neither returned, or the values need no work (``likeness``)."""
    own = trial.served if trial.wrong_parts else trial.outcome
    return likeness.digest(own.value, trial.args) if own is not None and own.ok else ""


def _where(fn: Function, frames: list[dict[str, Any]]) -> tuple[str, int]:
    """The file and line where a failure lies: its innermost frame, else ``fn``'s module (line 0: unknown)."""
    if not frames:
        return f"{fn.module}.py", 0
    return str(frames[-1].get("file", f"{fn.module}.py")), int(frames[-1].get("line", 0))
