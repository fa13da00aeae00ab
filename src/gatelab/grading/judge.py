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

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from gatelab.course.case import Case
from gatelab.course.config import ASPECTS, VALUES, Assignment, TestSpec
from gatelab.course.contract import Contract, Function
from gatelab.grading import diagnostics, gradcheck, shapenames, wire
from gatelab.grading.cases import dimensions_of, refusal
from gatelab.grading.matching import Candidate
from gatelab.grading.oracle import NotRecorded, Oracle
from gatelab.grading.sandbox import HIDDEN, PUBLIC, CallStatus, Outcome, PartRefused, Sandbox
from gatelab.report.render import Renderer
from gatelab.report.results import Cause

STRUCTURE = {"type", "keys", "shape"}
SHAPE_AND_DTYPE = STRUCTURE | {"dtype"}
VALUE_KINDS = STRUCTURE | {"not_finite", "values", "number"}
NOT_RETRIED = {CallStatus.MISSING, CallStatus.IMPORT_ERROR, CallStatus.BUDGET}  # a served-parts call repeats them
# The feedback macro that explains a call that did not return, by what happened (feedback.j2).
MACROS = {CallStatus.RAISED: "raised", CallStatus.MISSING: "missing", CallStatus.IMPORT_ERROR: "import_error",
          CallStatus.TIMEOUT: "timeout", CallStatus.CRASHED: "crashed", CallStatus.PROTOCOL: "protocol",
          CallStatus.SKIPPED: "skipped", CallStatus.BUDGET: "budget"}
SYNTAX_ERRORS = {"SyntaxError", "IndentationError", "TabError"}  # Python's, as an import error names them
NUMERIC_WARNING = "RuntimeWarning"  # numpy's overflow, invalid value, divide by zero: what a ``quiet`` hint explains
PART_SAMPLES = 2  # served calls per part (the first and the last) replayed on the student's own part


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


@dataclass
class Trial:
    """One function on one case: the student's calls, the reference's result, and which call was right."""

    case: Case
    lane: str  # the sandbox lane: public cases never share a worker with hidden ones
    args: list[Any]
    expected: Any
    outcome: Outcome  # the student's function with the student's own parts
    needs_work: bool  # the right result cannot be had without work (not constant, not an input)
    served: Outcome | None = None  # the same call with the parts served by the grader (composites)
    right: Outcome | None = None  # whichever call returned the right values, if one did
    wrong_parts: list[str] = field(default_factory=list)  # own parts that were wrong where the call used them
    part_dtypes: dict[str, str] = field(default_factory=dict)  # of those, each whose result had a wrong dtype: it
    #                                                           (float32 from an own part explains a composite)
    warned: bool = False  # right values, but with warnings the contract forbids
    candidates: list[Candidate] | None = None  # catalogued mistakes that are mistakes on these inputs
    refused: str = ""  # why the grader refused to serve a part this call asked for (the first refusal)
    unrecorded: str = ""  # a student release: the first call of a part it recorded no answer for


@dataclass
class _Heard:
    """What serving parts to an instructor's own test ran into, as a :class:`Trial` notes it for a case."""

    refused: str = ""
    unrecorded: str = ""


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
        self._trials: dict[tuple[str, str], Trial] = {}
        self._made: dict[tuple[str, str], tuple[list[Any], Outcome]] = {}  # calls made ahead (prefetch)
        self._named: list[str] = []  # mistake ids named while judging the current test
        self._import_errors: dict[tuple[Any, ...], str] = {}  # an import error, and the function first shown it
        self._cases: dict[str, list[Case]] = {}  # the cases each function's values are judged on in this run
        self._public: dict[str, set[str]] = {}  # the cases whose values test a student sees
        for spec in assignment.tests:
            if spec.aspect != VALUES:
                continue
            name = spec.function.qualname
            if spec.visibility == "visible":
                self._public.setdefault(name, set()).add(spec.case.name)
            if include_hidden or spec.visibility == "visible":
                self._cases.setdefault(name, []).append(spec.case)

    # --- calls -------------------------------------------------------------------------------------

    def trial(self, fn: Function, case: Case) -> Trial:
        """The student's call(s) on ``case``, made once, then shared by every aspect."""
        key = (fn.qualname, case.name)
        if key not in self._trials:
            self._try(fn, case)
        return self._trials[key]

    def _lane(self, fn: Function, case: Case) -> str:
        return PUBLIC if case.name in self._public.get(fn.qualname, ()) else HIDDEN

    def prefetch(self, functions: Iterable[Function]) -> None:
        """Make the student's own calls of ``functions`` on their cases of this run ahead, all the calls of a
        lane sent to its worker together (one round trip, not one per function); each is judged when its test
        runs, as if made then. A call not made here (after a hang or a crash) is made then, with every rule."""
        by_lane: dict[str, list[tuple[Function, Case, list[Any]]]] = {}
        for fn in dict.fromkeys(functions):
            for case in self._cases.get(fn.qualname, ()):
                if (fn.qualname, case.name) not in self._trials and (fn.qualname, case.name) not in self._made:
                    by_lane.setdefault(self._lane(fn, case), []).append(
                        (fn, case, self.oracle.inputs(fn.qualname, case)))
        for lane in (PUBLIC, HIDDEN):
            calls = by_lane.get(lane, [])
            outcomes = self.sandbox.call_many([(fn.module, fn.name, args) for fn, _, args in calls], lane)
            for (fn, case, args), outcome in zip(calls, outcomes):
                if outcome is not None:
                    self._made[(fn.qualname, case.name)] = (args, outcome)
            if any(o is not None and o.status is CallStatus.TIMEOUT for o in outcomes):
                return  # a function hangs: the rest go test by test, where strikes spare the functions above it

    def _try(self, fn: Function, case: Case) -> None:
        """Make the trial of ``fn`` on ``case`` and on the function's other cases of this run in the same lane
        not tried yet: the student's own calls (those not made ahead) are sent together, then each is settled."""
        lane = self._lane(fn, case)
        cases = [case] + [c for c in self._cases.get(fn.qualname, ()) if c != case and self._lane(fn, c) == lane
                          and (fn.qualname, c.name) not in self._trials]
        made = [self._made.pop((fn.qualname, c.name), None) for c in cases]
        inputs = [m[0] if m else self.oracle.inputs(fn.qualname, c) for m, c in zip(made, cases)]
        outcomes: list[Outcome | None] = [m[1] if m else None for m in made]
        todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
        if todo and not self._hanging(fn, lane):
            fresh = self.sandbox.call_many([(fn.module, fn.name, inputs[i]) for i in todo], lane)
            for i, outcome in zip(todo, fresh):
                outcomes[i] = outcome
        for each, args, outcome in zip(cases, inputs, outcomes):
            expected = self.oracle.expected(fn.qualname, each, args)
            trial = Trial(each, lane, args, expected, outcome or self._own_call(fn, args, lane),
                          self.oracle.needs_work(fn.qualname, each, args, expected))
            self._settle(fn, trial)
            self._trials[(fn.qualname, each.name)] = trial

    def _hanging(self, fn: Function, lane: str) -> list[str]:
        """The functions below ``fn`` that ran past the time limit too often: calling ``fn`` would hang too."""
        return [p for p in self.contract.below(fn) if self.sandbox.struck(p, lane)]

    def _own_call(self, fn: Function, args: list[Any], lane: str) -> Outcome:
        hanging = self._hanging(fn, lane)
        if hanging:
            return Outcome(CallStatus.SKIPPED, message=f"not run on your own parts, because {hanging[0]} ran past the "
                                              "time limit; judged with the grader's parts instead")
        return self.sandbox.call(fn.module, fn.name, args, lane=lane)

    def _settle(self, fn: Function, trial: Trial) -> None:
        """Find which call, if any, returned the right values: the student's own, or with served parts."""
        if self._right(fn, trial, trial.outcome):
            trial.right = trial.outcome
            return
        trial.warned = trial.outcome.ok and fn.warn_free and bool(trial.outcome.warnings) and \
            not self._problems(fn, trial, trial.outcome)
        served = self._served(fn, trial)
        if served is not None and self._right(fn, trial, served):
            trial.right = served

    def _served(self, fn: Function, trial: Trial) -> Outcome | None:
        """The composite's call with its parts served by the grader (made once), or None for a plain function."""
        if trial.served is None and fn.parts and self.oracle.serves_parts and \
                trial.outcome.status not in NOT_RETRIED and not self._not_written(fn, trial.outcome):
            used: dict[str, list[tuple[list[Any], Any]]] = {}
            servers = self._part_servers(fn, used, dict(trial.case.values), trial)
            trial.served = self.sandbox.call(fn.module, fn.name, trial.args, servers, trial.lane)
            trial.wrong_parts = self._wrong_parts(used, trial.lane, trial.part_dtypes)
        return trial.served

    def _problems(self, fn: Function, trial: Trial, outcome: Outcome) -> list[diagnostics.Problem]:
        return [p for p in diagnostics.compare(fn, trial.expected, outcome.value) if p.kind in VALUE_KINDS]

    def _right(self, fn: Function, trial: Trial, outcome: Outcome) -> bool:
        return outcome.ok and not self._problems(fn, trial, outcome) and not (fn.warn_free and outcome.warnings)

    def _part_servers(self, fn: Function, used: dict[str, list[tuple[list[Any], Any]]],
                      dimensions: Mapping[str, float], trial: Trial | _Heard | None = None
                      ) -> dict[str, Callable[..., Any]]:
        """The reference's parts, as the sandbox serves them; each remembers what it was asked, and refuses
        (``PartRefused``, noted in ``trial.refused``) arguments not of the contract's shapes for ``dimensions``."""

        def server(qualname: str) -> Callable[..., Any]:
            reference = self.oracle.part(qualname)
            names = self.contract.lookup(qualname).arg_names

            def serve(*args: Any, **kwargs: Any) -> Any:
                positional = list(args) + [kwargs.pop(n) for n in names[len(args):] if n in kwargs]
                if kwargs:
                    raise TypeError(f"{qualname}() got unexpected arguments {sorted(kwargs)}")
                refused = refusal(self.contract, self.contract.lookup(qualname), positional, dimensions)
                if refused is not None:
                    if trial is not None:
                        trial.refused = trial.refused or refused
                    raise PartRefused(refused)
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        value = reference(*wire.copied(positional))
                    except NotRecorded as exc:
                        if trial is not None:
                            trial.unrecorded = trial.unrecorded or str(exc)
                        raise
                calls = used.setdefault(qualname, [])
                calls[min(len(calls), PART_SAMPLES - 1):] = [(positional, value)]
                return value

            return serve

        return {qualname: server(qualname) for qualname in fn.parts}

    def _wrong_parts(self, used: Mapping[str, list[tuple[list[Any], Any]]], lane: str,
                     dtypes: dict[str, str]) -> list[str]:
        """The student's own parts that are wrong on arguments the composite really gave them; ``dtypes`` hears
        the dtype of each whose result had the wrong one."""
        wrong = []
        for qualname, calls in used.items():
            part = self.contract.lookup(qualname)
            for args, value in calls:
                if self._hanging(part, lane) or self.sandbox.struck(qualname, lane):
                    wrong.append(qualname)
                    break
                outcome = self.sandbox.call(part.module, part.name, args, lane=lane)
                problems = diagnostics.compare(part, value, outcome.value) if outcome.ok else []
                if not outcome.ok or problems:
                    wrong.append(qualname)
                    dtype = next((p.details for p in problems if p.kind == "dtype"), None)
                    if dtype:
                        dtypes[qualname] = f"{dtype['got']}, not {dtype['expected']}"
                    break
        return sorted(wrong)

    # --- tests -------------------------------------------------------------------------------------

    def verdict(self, spec: TestSpec) -> Verdict:
        """Grade one test: the values on one case, or an aspect over the function's cases."""
        self._named = []
        if spec.aspect == VALUES:
            verdict = self._values(spec.function, self.trial(spec.function, spec.case))
        else:
            verdict = self._aspect(spec)
        verdict.mistakes = list(dict.fromkeys(self._named)) if not verdict.passed else []
        return verdict

    def _cases_of(self, spec: TestSpec) -> list[Case]:
        run = self._cases.get(spec.function.qualname)
        return [c for c in spec.cases if c in run] if run else list(spec.cases)

    def _evidence(self, fn: Function) -> bool:
        """Whether ``fn`` is right on at least one case of this run whose answer needs work."""
        return any(t.right is not None and t.needs_work
                   for t in (self.trial(fn, case) for case in self._cases.get(fn.qualname, ())))

    def _values(self, fn: Function, trial: Trial) -> Verdict:
        output = trial.outcome.output
        if trial.right is None:
            failed = self._failed_call(trial)
            cause, where = self.cause_of(fn, failed) if failed is not None else (Cause.NONE, "")
            return Verdict(False, self._wrong_values(fn, trial), output, cause=cause, cause_file=where)
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
        upstream = [self.renderer.feedback("upstream", qualname=fn.qualname, wrong=trial.wrong_parts)] \
            if trial.wrong_parts else []
        failing = self._parts_failing_their_tests(fn) if fn.parts and (trial.unrecorded or not
                                                                        self.oracle.serves_parts) else []
        if failing:  # a student release that cannot serve this call, and a part already fails its own tests
            return self.renderer.feedback("parts_not_served", qualname=fn.qualname, failing=failing,
                                          unrecorded=trial.unrecorded)
        if trial.refused:
            upstream.append(self.renderer.feedback("part_refused", qualname=fn.qualname, why=trial.refused))
        checked = self._gradient_check(fn, trial, trial.outcome) if trial.outcome.ok else []
        served = trial.served
        if served is not None and served.ok and trial.wrong_parts:
            lead = self.renderer.feedback("with_served_parts", qualname=fn.qualname, parts=trial.wrong_parts)
            return "\n".join([*upstream, *checked, lead, *self._describe(fn, trial, served)])  # check: own parts
        outcome = self._failed_call(trial) or trial.outcome
        if not outcome.ok:
            explained = self.explain_outcome(fn, outcome, trial.case)
            return "\n".join([explained] if self._explains_itself(fn, outcome) else [*upstream, explained])
        messages = self._describe(fn, trial, outcome, then=checked)
        if trial.warned:
            numeric = any(w.startswith(NUMERIC_WARNING) for w in outcome.warnings)  # what ``quiet`` is about
            messages.append(self.renderer.feedback("warned", qualname=fn.qualname, warnings=outcome.warnings,
                                                   hint=(fn.quiet or "") if numeric else ""))
        return "\n".join(upstream + messages)

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
        return any(self.trial(fn, case).right is None for case in self._cases.get(fn.qualname, ()))

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
        last_file = str(frames[-1].get("file", module_file)) if frames else module_file
        if self._not_written(fn, outcome):
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
        trials = [self.trial(fn, case) for case in self._cases_of(spec)]
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
            if spec.visibility == "visible" and trial.case.name not in self._public.get(fn.qualname, set()):
                return Verdict(False, self.renderer.feedback("hidden_case", qualname=fn.qualname,
                                                             aspect=ASPECTS[spec.aspect]))
            return Verdict(False, "\n".join(messages), trial.right.output)
        return Verdict(True, "\n".join(notes), "", notes)

    def _holds_with_served_parts(self, fn: Function, trial: Trial,
                                 judge_one: Callable[[Function, Trial, Outcome], list[str]]) -> bool:
        """Whether an aspect that fails on the student's own parts holds for the composite's own work."""
        if trial.right is not trial.outcome:
            return False
        served = self._served(fn, trial)
        return served is not None and self._right(fn, trial, served) and not judge_one(fn, trial, served)

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

    def call_student(self, qualname: str, args: list[Any], lane: str, own: bool = False) -> Outcome:
        """The student's ``qualname(*args)``, run in the sandbox (never in this process), with the
        function's parts served by the grader: an instructor's test, too, measures its own work (at home, on
        the calls the release recorded; a call it did not record runs on the student's own parts). ``own``:
        the student's code as written, parts and all."""
        fn = self.contract.lookup(qualname)
        if own or not fn.parts or not (self.oracle.serves_any_call or self.oracle.serves_parts):
            return self.sandbox.call(fn.module, fn.name, args, None, lane)
        heard = _Heard()
        parts = self._part_servers(fn, {}, dimensions_of(self.contract, fn, args), heard)
        outcome = self.sandbox.call(fn.module, fn.name, args, parts, lane)
        if heard.unrecorded:  # a student release recorded no such call: the student's own parts, as ever
            outcome = self.sandbox.call(fn.module, fn.name, args, None, lane)
        return outcome

    def difference(self, quantity: str, expected: Any, got: Any, rtol: float, atol: float) -> str:
        """How ``got`` differs from ``expected``, in the judge's words; empty when they agree."""
        problems = diagnostics.compare_value(quantity, expected, got, rtol, atol)
        return "\n".join(self._render(p) for p in problems)

    def _import_error(self, fn: Function, error: dict[str, Any]) -> str:
        """The whole import error under the first function it stops; one line under every later one."""
        frames = error.get("frames", [])
        where = frames[-1] if frames else {"file": f"{fn.module}.py", "line": 0}
        key = (error.get("type", "?"), error.get("message", ""), where["file"], where["line"])
        first = self._import_errors.setdefault(key, fn.qualname)
        if first != fn.qualname:
            return self.renderer.feedback("import_error_again", qualname=fn.qualname, module=fn.module,
                                          type=key[0], file=where["file"], line=where["line"], first=first)
        return self.renderer.feedback("import_error", module=fn.module, type=key[0], message=key[1], frames=frames)

    def _crashed(self, fn: Function, outcome: Outcome) -> str:
        """A worker that ended in a call of ``fn`` or in importing its module, with the lines where it ended
        when the worker wrote them down; an import's ending in full under the first function it stops."""
        frames = outcome.error.get("frames") or []
        file = str(frames[-1]["file"]) if frames else f"{fn.module}.py"
        signal = str(outcome.error.get("signal") or "")
        first = fn.qualname
        if outcome.phase == "import":
            first = self._import_errors.setdefault(("crashed", outcome.message, file, frames[-1]["line"] if frames
                                                    else 0), fn.qualname)
        return self.renderer.feedback("crashed", qualname=fn.qualname, module=fn.module, message=outcome.message,
                                      phase=outcome.phase, frames=frames, file=file, signal=signal,
                                      first="" if first == fn.qualname else first)

    def _not_written(self, fn: Function, outcome: Outcome) -> bool:
        """Whether ``fn`` itself raised NotImplementedError: the grader's parts cannot change that."""
        return _not_implemented(outcome) and not self._upstream(fn, outcome.error.get("frames", []))

    def _explains_itself(self, fn: Function, outcome: Outcome) -> bool:
        """Whether the explanation of a failed call says all there is (another function at fault, or the
        function not written yet), so the advice about wrong parts would only be noise."""
        if outcome.status is CallStatus.IMPORT_ERROR or _not_implemented(outcome):
            return True  # nothing ran, or not written yet (by the function itself, or by the part it names)
        frames = outcome.error.get("frames", [])
        if outcome.status is CallStatus.TIMEOUT:
            return bool(self._hung_in(fn, frames))
        return outcome.status is CallStatus.RAISED and bool(self._upstream(fn, frames))

    def _contract_frames(self, frames: list[dict[str, Any]]) -> list[str]:
        """The contract functions among a call's frames, outermost first."""
        named = (f"{frame['file'].removesuffix('.py')}.{frame['function']}" for frame in frames)
        return [qualname for qualname in named if qualname in self.contract.by_name]

    def _hung_in(self, fn: Function, frames: list[dict[str, Any]]) -> str:
        """The other contract function to blame for a call of ``fn`` that hung: of those it was running when
        stopped, the outermost that fails its own tests (where the stack was caught says little: a loop that
        never ends spends its time in whatever it calls)."""
        for qualname in self._contract_frames(frames):
            other = self.contract.lookup(qualname)
            if qualname != fn.qualname and any(self.trial(other, case).right is None
                                               for case in self._cases.get(qualname, ())):
                return qualname
        return ""

    def _upstream(self, fn: Function, frames: list[dict[str, Any]]) -> str:
        """The other contract function where an error was raised, if it was not ``fn`` itself."""
        innermost = self._contract_frames(frames)[-1:]
        return innermost[0] if innermost and innermost[0] != fn.qualname else ""

    def explain_outcome(self, fn: Function, outcome: Outcome, case: Case | None = None) -> str:
        """Feedback for a call that did not return: it raised, hung, crashed, or was never found (on ``case``,
        when known: the shapes an error names are then said in the contract's symbols)."""
        render = self.renderer.feedback
        error = outcome.error
        if _not_implemented(outcome):
            return render("not_implemented", qualname=fn.qualname, hint=error.get("message", ""),
                          upstream=self._upstream(fn, error.get("frames", [])))
        if outcome.status is CallStatus.RAISED:
            type_name, message = error.get("type", "?"), error.get("message", "")
            upstream = self._upstream(fn, error.get("frames", []))
            values = {**dict(self.contract.variables), **dict(case.values)} if case is not None else {}
            shapes = shapenames.translate(self.contract, fn, values, message) if values and not upstream else None
            return render("raised", qualname=fn.qualname, type=type_name, message=message,
                          frames=error.get("frames", []), upstream=upstream,
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


def _not_implemented(outcome: Outcome) -> bool:
    """Whether the call raised NotImplementedError (the exercise's stub, or a part not written yet)."""
    return outcome.status is CallStatus.RAISED and outcome.error.get("type") == "NotImplementedError"
