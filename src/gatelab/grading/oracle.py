"""Where right answers come from: the reference's code, or what a student release recorded of it.

The judge asks an oracle for a function's inputs on a case, the right result,
the catalogued mistakes that are mistakes on those inputs (with what each
gives), and, to judge a composite on its own work, the reference's parts.

- ``LiveOracle`` (the instructor's machine, the autograder) draws inputs from
  the contract, runs ``solutions/`` and the catalog's formulas in the trusted
  process, and can serve parts.
- ``RecordedOracle`` (a student release) holds only what ``grade release``
  recorded for the public cases: inputs, right results, the catalog's results
  and, for a composite, every call its reference makes to its parts with what
  each returned. No reference code, no hidden case. It serves a part only on
  a call it recorded: with right parts a correct composite makes exactly those
  calls, so at home it is judged on its own work as at grading. A call it did
  not record is refused (``NotRecorded``), and the composite is left to grading.
  The release also records the calls the reference's composites make to their
  parts in the instructor's own public tests (heard through ``Listening`` while
  it grades the reference), so those tests, too, judge a composite's own work
  at home as at grading.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from gatelab.course.case import Case
from gatelab.course.catalog import Catalog, Mistake, reference_namespace
from gatelab.course.config import Assignment
from gatelab.errors import ConfigError
from gatelab.grading import diagnostics, matching, wire
from gatelab.grading.cases import make_args
from gatelab.grading.matching import Candidate
from gatelab.grading.reference import Reference
from gatelab.grading.sandbox import PartRefused

RECORDING = "recorded.bin"  # in a release's grader/ folder
MATCH_RTOL, MATCH_ATOL = 1e-10, 1e-12  # a recorded call matches arguments this close (far below any judge's)


class NotRecorded(PartRefused):
    """A part asked for on arguments the release recorded no call of: only grading can compute it."""


class LiveOracle:
    """The reference's code and the catalog's formulas, run in the trusted process."""

    serves_parts = True  # to a composite, on the calls a correct composite makes
    serves_any_call = True  # on any arguments of the contract's shapes (an instructor's own test)

    def __init__(self, assignment: Assignment, reference: Reference, catalog: Callable[[], Catalog]) -> None:
        self.assignment = assignment
        self.reference = reference
        self.catalog = functools.cache(catalog)  # read when a mistake is first looked for: a stub needs none
        self.namespace: SimpleNamespace | None = reference_namespace(reference.modules)

    def read_catalog(self) -> None:
        """Read the catalog now (a resident caller: its problems are told once, before any grading)."""
        self.catalog()

    def inputs(self, qualname: str, case: Case) -> list[Any]:
        contract = self.assignment.contract
        return make_args(contract, contract.lookup(qualname), case, self.assignment.seed)

    def expected(self, qualname: str, case: Case, args: list[Any]) -> Any:
        return self.reference.function(qualname)(*copy.deepcopy(args))

    def part(self, qualname: str) -> Callable[..., Any]:
        return self.reference.function(qualname)

    def needs_work(self, qualname: str, case: Case, args: list[Any], expected: Any) -> bool:
        return diagnostics.needs_work(expected, args)

    def candidates(self, qualname: str, case: Case, args: list[Any],
                   expected: Any) -> tuple[list[Candidate], list[str]]:
        fn = self.assignment.contract.lookup(qualname)
        assert self.namespace is not None
        return matching.candidates(self.catalog(), fn, self.namespace, args, expected)


class Listening:
    """An oracle that writes down every call of a part it serves (part, arguments, value): what the release
    records of the calls the reference's composites make in the instructor's own tests."""

    def __init__(self, oracle: LiveOracle) -> None:
        self.oracle = oracle
        self.serves_parts, self.serves_any_call = oracle.serves_parts, oracle.serves_any_call
        self.namespace = oracle.namespace
        self.heard: list[dict[str, Any]] = []

    def read_catalog(self) -> None:
        self.oracle.read_catalog()

    def inputs(self, qualname: str, case: Case) -> list[Any]:
        return self.oracle.inputs(qualname, case)

    def expected(self, qualname: str, case: Case, args: list[Any]) -> Any:
        return self.oracle.expected(qualname, case, args)

    def needs_work(self, qualname: str, case: Case, args: list[Any], expected: Any) -> bool:
        return self.oracle.needs_work(qualname, case, args, expected)

    def candidates(self, qualname: str, case: Case, args: list[Any],
                   expected: Any) -> tuple[list[Candidate], list[str]]:
        return self.oracle.candidates(qualname, case, args, expected)

    def part(self, qualname: str) -> Callable[..., Any]:
        inner = self.oracle.part(qualname)

        def heard(*args: Any) -> Any:
            value = inner(*args)
            self.heard.append({"part": qualname, "args": wire.copied(list(args)), "value": wire.copied(value)})
            return value

        return heard


class Remembered:
    """An oracle whose answers are computed once and then kept: a case's inputs, right result and catalog
    candidates are the same for every submission of a batch and every save in watch mode (they depend on the
    assignment and its seed only). Each caller gets its own copy of the arrays, so nothing one judge does
    reaches the next."""

    def __init__(self, oracle: Oracle) -> None:
        self.oracle = oracle
        self.serves_parts = oracle.serves_parts
        self.serves_any_call = oracle.serves_any_call
        self.namespace = oracle.namespace
        self._inputs: dict[tuple[str, str], list[Any]] = {}
        self._expected: dict[tuple[str, str], Any] = {}
        self._candidates: dict[tuple[str, str], tuple[list[Candidate], list[str]]] = {}
        self._needs_work: dict[tuple[str, str], bool] = {}

    def inputs(self, qualname: str, case: Case) -> list[Any]:
        key = (qualname, case.name)
        if key not in self._inputs:
            self._inputs[key] = self.oracle.inputs(qualname, case)
        inputs: list[Any] = wire.copied(self._inputs[key])
        return inputs

    def expected(self, qualname: str, case: Case, args: list[Any]) -> Any:
        """The right result on the case's own inputs (the only arguments a judge asks about)."""
        key = (qualname, case.name)
        if key not in self._expected:
            self._expected[key] = self.oracle.expected(qualname, case, args)
        return wire.copied(self._expected[key])

    def part(self, qualname: str) -> Callable[..., Any]:
        return self.oracle.part(qualname)

    def read_catalog(self) -> None:
        self.oracle.read_catalog()

    def needs_work(self, qualname: str, case: Case, args: list[Any], expected: Any) -> bool:
        key = (qualname, case.name)
        if key not in self._needs_work:
            self._needs_work[key] = self.oracle.needs_work(qualname, case, args, expected)
        return self._needs_work[key]

    def candidates(self, qualname: str, case: Case, args: list[Any],
                   expected: Any) -> tuple[list[Candidate], list[str]]:
        key = (qualname, case.name)
        if key not in self._candidates:
            self._candidates[key] = self.oracle.candidates(qualname, case, args, expected)
        found, failures = self._candidates[key]
        return list(found), list(failures)


@dataclass
class Record:
    """One public (function, case) as a release recorded it."""

    args: list[Any]
    expected: Any
    candidates: list[dict[str, Any]] = field(default_factory=list)  # {id, value, after}
    parts: list[dict[str, Any]] = field(default_factory=list)  # a composite's calls: {part, args, value}


class RecordedOracle:
    """What a student release recorded for its public cases; no code of the reference."""

    serves_any_call = False
    namespace = None

    def __init__(self, path: Path, catalog: Callable[[], Catalog]) -> None:
        try:
            data = wire.decode(path.read_bytes()[4:], bounded=False)  # written by the grader
        except (OSError, wire.WireError) as exc:
            raise ConfigError(f"cannot read the recorded answers ({exc}); download the release again",
                              str(path)) from None
        self.records = {key: Record(**value) for key, value in data["records"].items()}
        self._catalog = catalog
        self.calls: dict[str, list[tuple[list[Any], Any]]] = {}  # by part: the calls composites made of it
        for call in [c for each in self.records.values() for c in each.parts] + list(data.get("served", [])):
            self.calls.setdefault(call["part"], []).append((call["args"], call["value"]))
        self.serves_parts = bool(self.calls)  # a release built before parts were recorded serves none

    def read_catalog(self) -> None:
        """Read the catalog now (a resident caller: its problems are told once, before any grading)."""
        _ = self.mistakes

    @functools.cached_property
    def mistakes(self) -> dict[str, Mistake]:
        """The catalog's entries by id (their texts), read when a recorded mistake is first looked for."""
        return {m.id: m for m in self._catalog().mistakes}

    def _record(self, qualname: str, case: Case) -> Record:
        try:
            return self.records[f"{qualname}|{case.name}"]
        except KeyError:
            raise ConfigError(f"the release recorded nothing for {qualname} on case {case.name}") from None

    def inputs(self, qualname: str, case: Case) -> list[Any]:
        inputs: list[Any] = wire.copied(self._record(qualname, case).args)
        return inputs

    def expected(self, qualname: str, case: Case, args: list[Any]) -> Any:
        return wire.copied(self._record(qualname, case).expected)

    def part(self, qualname: str) -> Callable[..., Any]:
        """``qualname`` as recorded: its value on a call a correct composite makes, else ``NotRecorded``."""
        calls = self.calls.get(qualname, [])

        def replay(*args: Any) -> Any:
            for recorded, value in calls:
                if _matches(recorded, list(args)):
                    return wire.copied(value)
            raise NotRecorded(qualname)

        return replay

    def needs_work(self, qualname: str, case: Case, args: list[Any], expected: Any) -> bool:
        return diagnostics.needs_work(expected, args)

    def candidates(self, qualname: str, case: Case, args: list[Any],
                   expected: Any) -> tuple[list[Candidate], list[str]]:
        found = [Candidate(self.mistakes[c["id"]], c["value"], c["after"])
                 for c in self._record(qualname, case).candidates if c["id"] in self.mistakes]
        return found, []


class Oracle(Protocol):
    """What a judge asks of the right answers: the reference run here (``LiveOracle``), a release's recording
    of it (``RecordedOracle``), or either remembered (``Remembered``) or listened to (``Listening``)."""

    serves_parts: bool
    serves_any_call: bool
    namespace: SimpleNamespace | None

    def read_catalog(self) -> None: ...

    def inputs(self, qualname: str, case: Case) -> list[Any]: ...

    def expected(self, qualname: str, case: Case, args: list[Any]) -> Any: ...

    def part(self, qualname: str) -> Callable[..., Any]: ...

    def needs_work(self, qualname: str, case: Case, args: list[Any], expected: Any) -> bool: ...

    def candidates(self, qualname: str, case: Case, args: list[Any],
                   expected: Any) -> tuple[list[Candidate], list[str]]: ...


def _matches(recorded: Any, given: Any) -> bool:
    """Whether ``given`` is, structure and numbers, the recorded call's arguments (up to rounding far below
    what any judge tells apart: a correct composite may compute a part's argument in another order)."""
    if isinstance(recorded, np.ndarray) or isinstance(given, np.ndarray):
        return (isinstance(recorded, np.ndarray) and isinstance(given, np.ndarray) and recorded.shape == given.shape
                and recorded.dtype == given.dtype and bool(np.allclose(given, recorded, rtol=MATCH_RTOL,
                                                                      atol=MATCH_ATOL, equal_nan=True)))
    if isinstance(recorded, dict):
        return isinstance(given, dict) and recorded.keys() == given.keys() and \
            all(_matches(recorded[k], given[k]) for k in recorded)
    if isinstance(recorded, (list, tuple)):
        return isinstance(given, (list, tuple)) and len(recorded) == len(given) and \
            all(_matches(r, g) for r, g in zip(recorded, given))
    return type(recorded) is type(given) and recorded == given


def record(oracle: LiveOracle, pairs: list[tuple[str, Case]], heard: Sequence[dict[str, Any]] = ()) -> bytes:
    """The recording a release ships: inputs, right results and catalog results for these (function, case),
    for a composite the calls its reference makes to its parts there, and the part calls ``heard`` elsewhere
    (the instructor's own tests) that those do not already hold."""
    records = {}
    for qualname, case in pairs:
        args = oracle.inputs(qualname, case)
        expected = oracle.expected(qualname, case, args)
        candidates, failures = oracle.candidates(qualname, case, args, expected)
        if failures:
            raise ConfigError(f"cannot record {qualname} on {case.name}: {failures[0]}")
        parts = oracle.assignment.contract.lookup(qualname).parts
        records[f"{qualname}|{case.name}"] = {
            "args": args, "expected": expected,
            "candidates": [{"id": c.mistake.id, "value": c.value, "after": c.after}
                           for c in candidates],
            "parts": [{"part": part, "args": made, "value": value}
                      for part, made, value in oracle.reference.calls_to_parts(qualname, parts, args)]}
    known = [call for each in records.values() for call in each["parts"]]
    served: list[dict[str, Any]] = []
    for call in heard:
        if not any(c["part"] == call["part"] and _matches(c["args"], call["args"]) for c in known + served):
            served.append(call)
    return wire.encode({"records": records, "served": served})
