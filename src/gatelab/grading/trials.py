"""The evidence a judge weighs: the student's calls of a contract function on its cases (made once, shared by
every aspect, sent to a worker together where they can be), the reference's result, and, for a composite
whose result is wrong, the same call with its parts served by the grader, with the student's own parts
replayed on what the composite really gave them. What the calls mean is the judge's (``judge``)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from gatelab.course.case import Case
from gatelab.course.config import VALUES, Assignment
from gatelab.course.contract import Contract, Function
from gatelab.grading import diagnostics, wire
from gatelab.grading.cases import dimensions_of, refusal
from gatelab.grading.matching import Candidate
from gatelab.grading.oracle import NotRecorded, Oracle
from gatelab.grading.sandbox import HIDDEN, PUBLIC, CallStatus, Outcome, PartRefused, Sandbox

STRUCTURE = {"type", "keys", "shape"}
VALUE_KINDS = STRUCTURE | {"not_finite", "values", "number"}
NOT_RETRIED = {CallStatus.MISSING, CallStatus.IMPORT_ERROR, CallStatus.BUDGET}  # a served-parts call repeats them
PART_SAMPLES = 2  # served calls per part (the first and the last) replayed on the student's own part


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
class Heard:
    """What serving parts to an instructor's own test ran into, as a :class:`Trial` notes it for a case."""

    refused: str = ""
    unrecorded: str = ""


class Trials:
    """The trials of one submission's functions on their cases of this run, made once and kept."""

    def __init__(self, sandbox: Sandbox, oracle: Oracle, assignment: Assignment, include_hidden: bool = True) -> None:
        self.sandbox = sandbox
        self.oracle = oracle
        self.contract: Contract = assignment.contract
        self._trials: dict[tuple[str, str], Trial] = {}
        self._made: dict[tuple[str, str], tuple[list[Any], Outcome]] = {}  # calls made ahead (prefetch)
        self.cases: dict[str, list[Case]] = {}  # the cases each function's values are judged on in this run
        self.public: dict[str, set[str]] = {}  # the cases whose values test a student sees
        for spec in assignment.tests:
            if spec.aspect != VALUES:
                continue
            name = spec.function.qualname
            if spec.visibility == "visible":
                self.public.setdefault(name, set()).add(spec.case.name)
            if include_hidden or spec.visibility == "visible":
                self.cases.setdefault(name, []).append(spec.case)

    def trial(self, fn: Function, case: Case) -> Trial:
        """The student's call(s) on ``case``, made once, then shared by every aspect."""
        key = (fn.qualname, case.name)
        if key not in self._trials:
            self._try(fn, case)
        return self._trials[key]

    def lane(self, fn: Function, case: Case) -> str:
        return PUBLIC if case.name in self.public.get(fn.qualname, ()) else HIDDEN

    def prefetch(self, functions: Iterable[Function]) -> None:
        """Make the student's own calls of ``functions`` on their cases of this run ahead, all the calls of a
        lane sent to its worker together (one round trip, not one per function); each is judged when its test
        runs, as if made then. A call not made here (after a hang or a crash) is made then, with every rule."""
        by_lane: dict[str, list[tuple[Function, Case, list[Any]]]] = {}
        for fn in dict.fromkeys(functions):
            for case in self.cases.get(fn.qualname, ()):
                if (fn.qualname, case.name) not in self._trials and (fn.qualname, case.name) not in self._made:
                    by_lane.setdefault(self.lane(fn, case), []).append(
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
        lane = self.lane(fn, case)
        cases = [case] + [c for c in self.cases.get(fn.qualname, ()) if c != case and self.lane(fn, c) == lane
                          and (fn.qualname, c.name) not in self._trials]
        made = [self._made.pop((fn.qualname, c.name), None) for c in cases]
        inputs = [m[0] if m else self.oracle.inputs(fn.qualname, c) for m, c in zip(made, cases)]
        outcomes: list[Outcome | None] = [m[1] if m else None for m in made]
        todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
        if todo and not self.hanging(fn, lane):
            fresh = self.sandbox.call_many([(fn.module, fn.name, inputs[i]) for i in todo], lane)
            for i, outcome in zip(todo, fresh):
                outcomes[i] = outcome
        for each, args, outcome in zip(cases, inputs, outcomes):
            expected = self.oracle.expected(fn.qualname, each, args)
            trial = Trial(each, lane, args, expected, outcome or self._own_call(fn, args, lane),
                          self.oracle.needs_work(fn.qualname, each, args, expected))
            self._settle(fn, trial)
            self._trials[(fn.qualname, each.name)] = trial

    def hanging(self, fn: Function, lane: str) -> list[str]:
        """The functions below ``fn`` that ran past the time limit too often: calling ``fn`` would hang too."""
        return [p for p in self.contract.below(fn) if self.sandbox.struck(p, lane)]

    def _own_call(self, fn: Function, args: list[Any], lane: str) -> Outcome:
        hanging = self.hanging(fn, lane)
        if hanging:
            return Outcome(CallStatus.SKIPPED, message=f"not run on your own parts, because {hanging[0]} ran past the "
                                              "time limit; judged with the grader's parts instead")
        return self.sandbox.call(fn.module, fn.name, args, lane=lane)

    def _settle(self, fn: Function, trial: Trial) -> None:
        """Find which call, if any, returned the right values: the student's own, or with served parts."""
        if self.right(fn, trial, trial.outcome):
            trial.right = trial.outcome
            return
        trial.warned = trial.outcome.ok and fn.warn_free and bool(trial.outcome.warnings) and \
            not self.problems(fn, trial, trial.outcome)
        served = self.served(fn, trial)
        if served is not None and self.right(fn, trial, served):
            trial.right = served

    def served(self, fn: Function, trial: Trial) -> Outcome | None:
        """The composite's call with its parts served by the grader (made once), or None for a plain function."""
        if trial.served is None and fn.parts and self.oracle.serves_parts and \
                trial.outcome.status not in NOT_RETRIED and not not_written(self.contract, fn, trial.outcome):
            used: dict[str, list[tuple[list[Any], Any]]] = {}
            servers = self._part_servers(fn, used, dict(trial.case.values), trial)
            trial.served = self.sandbox.call(fn.module, fn.name, trial.args, servers, trial.lane)
            trial.wrong_parts = self._wrong_parts(used, trial.lane, trial.part_dtypes)
        return trial.served

    def problems(self, fn: Function, trial: Trial, outcome: Outcome) -> list[diagnostics.Problem]:
        return [p for p in diagnostics.compare(fn, trial.expected, outcome.value) if p.kind in VALUE_KINDS]

    def right(self, fn: Function, trial: Trial, outcome: Outcome) -> bool:
        return outcome.ok and not self.problems(fn, trial, outcome) and not (fn.warn_free and outcome.warnings)

    def _part_servers(self, fn: Function, used: dict[str, list[tuple[list[Any], Any]]],
                      dimensions: Mapping[str, float], trial: Trial | Heard | None = None
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
                if self.hanging(part, lane) or self.sandbox.struck(qualname, lane):
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

    def call_student(self, qualname: str, args: list[Any], lane: str, own: bool = False) -> Outcome:
        """The student's ``qualname(*args)``, run in the sandbox (never in this process), with the
        function's parts served by the grader: an instructor's test, too, measures its own work (at home, on
        the calls the release recorded; a call it did not record runs on the student's own parts). ``own``:
        the student's code as written, parts and all."""
        fn = self.contract.lookup(qualname)
        if own or not fn.parts or not (self.oracle.serves_any_call or self.oracle.serves_parts):
            return self.sandbox.call(fn.module, fn.name, args, None, lane)
        heard = Heard()
        parts = self._part_servers(fn, {}, dimensions_of(self.contract, fn, args), heard)
        outcome = self.sandbox.call(fn.module, fn.name, args, parts, lane)
        if heard.unrecorded:  # a student release recorded no such call: the student's own parts, as ever
            outcome = self.sandbox.call(fn.module, fn.name, args, None, lane)
        return outcome


def contract_frames(contract: Contract, frames: list[dict[str, Any]]) -> list[str]:
    """The contract functions among a call's frames, outermost first."""
    named = (f"{frame['file'].removesuffix('.py')}.{frame['function']}" for frame in frames)
    return [qualname for qualname in named if qualname in contract.by_name]


def upstream(contract: Contract, fn: Function, frames: list[dict[str, Any]]) -> str:
    """The other contract function where an error was raised, if it was not ``fn`` itself."""
    innermost = contract_frames(contract, frames)[-1:]
    return innermost[0] if innermost and innermost[0] != fn.qualname else ""


def not_written(contract: Contract, fn: Function, outcome: Outcome) -> bool:
    """Whether ``fn`` itself raised NotImplementedError: the grader's parts cannot change that."""
    return not_implemented(outcome) and not upstream(contract, fn, outcome.error.get("frames", []))


def not_implemented(outcome: Outcome) -> bool:
    """Whether the call raised NotImplementedError (the exercise's stub, or a part not written yet)."""
    return outcome.status is CallStatus.RAISED and outcome.error.get("type") == "NotImplementedError"
