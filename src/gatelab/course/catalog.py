"""The mistake catalog: wrong formulas students write, as instructor-editable data.

``grader/mistakes/<module>.yaml`` lists entries (id, function, formula,
feedback, lesson); the formula is a small function of the same name in
``grader/mistakes/<module>.py`` that takes ``ref`` (the reference modules:
``ref.module.function``...) and the contract function's own arguments, and
returns what the mistaken code returns. When a student's result equals a
formula's on the same inputs, and the formula is wrong there, the feedback
names that mistake (``grading.matching`` decides which mistakes a result is).

``grader/mistakes/families.yaml`` declares mistake families, expanded here
into ordinary entries for every function of a kind (see
:mod:`gatelab.course.families`); a hand-written entry with the same id wins.
"""
from __future__ import annotations

import copy
import importlib.util
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Callable

import numpy as np

from gatelab.course import families
from gatelab.course.contract import Contract
from gatelab.errors import ConfigError, did_you_mean
from gatelab.yamlsource import YamlSource

FIELDS = ("id", "function", "formula", "feedback", "lesson")


@dataclass(frozen=True)
class Mistake:
    """One known wrong formula for one function."""

    id: str
    function: str
    formula_name: str
    feedback: str
    lesson: str
    where: str  # file:line of the entry
    source: Path  # the .py file holding the formula
    formula: Callable[..., Any] | None  # None in a student release, which records results instead
    options: dict[str, Any] | None = field(default=None, compare=False)  # a family's: the formula's keywords
    free: bool = False  # NaN entries of its result stand for any value (a family's undetermined steps)

    @property
    def names_free_steps(self) -> bool:
        """A family mistake that only leaves steps undetermined: it says "right but at these steps", which holds
        wherever the student's result differs from the right one at those steps alone."""
        options = self.options or {}
        return self.free and not options.get("inputs") and all(set(op) == {"free"} for op in options["outputs"])

    def evaluate(self, ref: SimpleNamespace, args: list[Any]) -> tuple[Any, list[Any]]:
        """(result, arguments after the call) of the formula on a copy of ``args``; raises what it raises."""
        mine = copy.deepcopy(args)
        if self.formula is None:
            raise ValueError(f"mistake {self.id} has no formula here")
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return self.formula(ref, *mine), mine


@dataclass(frozen=True)
class Catalog:
    """Every mistake, by function, in file order."""

    mistakes: tuple[Mistake, ...] = ()

    def for_function(self, qualname: str) -> list[Mistake]:
        return [m for m in self.mistakes if m.function == qualname]


def _load_formulas(path: Path) -> ModuleType:
    if not path.is_file():
        raise ConfigError(f"the formulas for this file belong in {path.name}, which does not exist", str(path))
    spec = importlib.util.spec_from_file_location(f"gatelab_mistakes_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(f"cannot load the mistake formulas: {type(exc).__name__}: {exc}", str(path)) from None
    return module


def _entries(path: Path, contract: Contract, formulas_too: bool) -> list[Mistake]:
    doc = YamlSource(path)
    formulas: ModuleType | None = None
    mistakes = []
    for node in doc.sequence(doc.root, "a mistakes file"):
        entry = doc.mapping(node, "a mistake")
        doc.check_keys(entry, FIELDS, "a mistake")
        doc.require(entry, FIELDS, "a mistake", node)
        values = {key: doc.typed(entry[key], str, key) for key in FIELDS}
        if values["function"] not in contract.by_name:
            raise ConfigError(f"{values['function']!r} is not a function of the contract."
                              f"{did_you_mean(values['function'], contract.by_name)}", doc.where(entry["function"]))
        if not formulas_too:
            mistakes.append(Mistake(values["id"], values["function"], values["formula"],
                                    values["feedback"].strip(), values["lesson"], doc.where(node), path, None))
            continue
        formulas = formulas or _load_formulas(path.with_suffix(".py"))
        formula = getattr(formulas, values["formula"], None)
        if not callable(formula):
            names = [n for n in vars(formulas) if callable(getattr(formulas, n)) and not n.startswith("_")]
            raise ConfigError(f"{path.with_suffix('.py').name} has no function {values['formula']}()."
                              f"{did_you_mean(values['formula'], names)}", doc.where(entry["formula"]))
        mistakes.append(Mistake(values["id"], values["function"], values["formula"], values["feedback"].strip(),
                                values["lesson"], doc.where(node), path.with_suffix(".py"), formula))
    return mistakes


def load(folder: Path, contract: Contract, errors: list[str] | None = None, formulas: bool = True) -> Catalog:
    """Every ``*.yaml`` under ``folder`` (``grader/mistakes``), validated; an empty catalog if there is none.

    The first problem raises ConfigError; with an ``errors`` list, each broken
    file's problem is appended there instead and that file is left out.
    ``formulas=False`` reads the entries only (a student release, whose
    results were recorded).
    """
    mistakes: list[Mistake] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if path.name == families.FAMILIES_NAME:
            continue
        try:
            entries = _entries(path, contract, formulas)
            here = dict(seen)
            for mistake in entries:
                if mistake.id in here:
                    raise ConfigError(f"duplicate mistake id {mistake.id!r} (first at {here[mistake.id]})",
                                      mistake.where)
                here[mistake.id] = mistake.where
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            continue
        seen = here
        mistakes.extend(entries)
    path = folder / families.FAMILIES_NAME
    if path.is_file():
        try:
            mistakes.extend(_family_entries(path, contract, seen, formulas))
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
    return Catalog(tuple(mistakes))


def _family_entries(path: Path, contract: Contract, hand_written: dict[str, str], formulas_too: bool) -> list[Mistake]:
    """The families' mistakes, less those whose id a hand-written entry has (its own words win)."""
    mistakes: list[Mistake] = []
    here: dict[str, str] = {}
    for entry in families.load(path, contract):
        if entry.id in hand_written:
            continue
        if entry.id in here:
            raise ConfigError(f"duplicate mistake id {entry.id!r} (first at {here[entry.id]})", entry.where)
        here[entry.id] = entry.where
        mistakes.append(Mistake(entry.id, entry.function, "apply", entry.feedback, entry.lesson, entry.where,
                                families.source(), entry.formula if formulas_too else None, entry.options,
                                entry.free))
    return mistakes


def reference_namespace(modules: dict[str, ModuleType]) -> SimpleNamespace:
    """``ref`` for formulas: ``ref.module.function``, from the loaded reference modules."""
    return SimpleNamespace(**modules)
