"""``grader/config.yaml`` as frozen dataclasses, validated with file:line messages.

The file says where the reference and the exercises are, the seed, the
limits of one call, the named input cases, and for every contract function
which cases it is tested on, for how many points and with what visibility.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from gatelab.cases import Case
from gatelab.contract import BY_NAME, FUNCTIONS, Function
from gatelab.errors import ConfigError, UsageError, did_you_mean
from gatelab.sandbox import Limits

CONFIG_NAME = Path("grader") / "config.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class TestSpec:
    """One graded test: a function on a case, with its points and visibility."""

    function: Function
    case: Case
    points: float
    visibility: str

    @property
    def name(self) -> str:
        return f"{self.function.qualname}: {self.case.label}"


@dataclass(frozen=True)
class Assignment:
    """Everything the grader needs to know about one assignment folder."""

    root: Path
    title: str
    solutions: Path
    exercises: Path
    seed: int
    limits: Limits
    cases: dict[str, Case]
    tests: tuple[TestSpec, ...]

    @property
    def grader(self) -> Path:
        return self.root / "grader"


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``grader/config.yaml``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise UsageError(f"no {CONFIG_NAME} in {start} or any folder above it; "
                     "run inside an assignment or pass --assignment DIR")


class _Located:
    """YAML loaded with the line of every mapping value, for messages that cite file:line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            node = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", where) from None
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", str(path)) from None
        self.root = node

    def where(self, node: yaml.Node) -> str:
        return f"{self.path}:{node.start_mark.line + 1}"

    def mapping(self, node: yaml.Node | None, what: str) -> dict[str, yaml.Node]:
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{what} must be a mapping", self.where(node))
        return {str(k.value): v for k, v in node.value}

    def value(self, node: yaml.Node) -> Any:
        return yaml.SafeLoader("").construct_document(node)


def _check_keys(doc: _Located, entries: dict[str, yaml.Node], allowed: tuple[str, ...], what: str) -> None:
    for key, node in entries.items():
        if key not in allowed:
            raise ConfigError(f"unknown key {key!r} in {what}.{did_you_mean(key, allowed)}", doc.where(node))


def _typed(doc: _Located, node: yaml.Node, kind: type, what: str) -> Any:
    value = doc.value(node)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"{what} must be {'a number' if kind is float else 'a ' + kind.__name__}, "
                          f"not {value!r}", doc.where(node))
    return float(value) if kind is float else value


def _limits(doc: _Located, node: yaml.Node | None) -> Limits:
    entries = doc.mapping(node, "limits")
    names = tuple(f.name for f in fields(Limits))
    _check_keys(doc, entries, names, "limits")
    values = {}
    for f in fields(Limits):
        if f.name in entries:
            kind = float if f.type in ("float", float) else int
            values[f.name] = _typed(doc, entries[f.name], kind, f"limits.{f.name}")
            if values[f.name] <= 0:
                raise ConfigError(f"limits.{f.name} must be positive", doc.where(entries[f.name]))
    return Limits(**values)


def _cases(doc: _Located, node: yaml.Node | None) -> dict[str, Case]:
    cases = {}
    allowed = ("n_x", "n_h", "m", "T", "scale", "title")
    for name, case_node in doc.mapping(node, "cases").items():
        entries = doc.mapping(case_node, f"cases.{name}")
        _check_keys(doc, entries, allowed, f"cases.{name}")
        values: dict[str, Any] = {}
        for key, value_node in entries.items():
            kind = {"title": str, "scale": float}.get(key, int)
            values[key] = _typed(doc, value_node, kind, f"cases.{name}.{key}")
            if kind is int and values[key] < 1:
                raise ConfigError(f"cases.{name}.{key} must be at least 1", doc.where(value_node))
        cases[name] = Case(name=name, **values)
    if not cases:
        raise ConfigError("no cases are defined", str(doc.path))
    return cases


def _tests(doc: _Located, node: yaml.Node | None, cases: dict[str, Case]) -> tuple[TestSpec, ...]:
    specs = []
    seen = set()
    for qualname, per_case in doc.mapping(node, "tests").items():
        if qualname not in BY_NAME:
            raise ConfigError(f"{qualname!r} is not a function of the curriculum."
                              f"{did_you_mean(qualname, BY_NAME)}", doc.where(per_case))
        seen.add(qualname)
        for case_name, entry in doc.mapping(per_case, f"tests.{qualname}").items():
            if case_name not in cases:
                raise ConfigError(f"unknown case {case_name!r} for {qualname}.{did_you_mean(case_name, cases)}",
                                  doc.where(entry))
            settings = doc.mapping(entry, f"tests.{qualname}.{case_name}") if doc.value(entry) is not None else {}
            _check_keys(doc, settings, ("points", "visibility"), f"tests.{qualname}.{case_name}")
            points = _typed(doc, settings["points"], float, "points") if "points" in settings else 1.0
            if points <= 0:
                raise ConfigError("points must be positive", doc.where(settings["points"]))
            visibility = doc.value(settings["visibility"]) if "visibility" in settings else "hidden"
            if visibility not in VISIBILITIES:
                raise ConfigError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}",
                                  doc.where(settings["visibility"]))
            specs.append(TestSpec(BY_NAME[qualname], cases[case_name], points, visibility))
    untested = [f.qualname for f in FUNCTIONS if f.qualname not in seen]
    if untested:
        raise ConfigError(f"no tests for {', '.join(untested)}: every function of the curriculum needs some",
                          str(doc.path))
    return tuple(specs)


def load(root: Path) -> Assignment:
    """Read and validate ``root/grader/config.yaml``."""
    path = Path(root).resolve() / CONFIG_NAME
    doc = _Located(path)
    top = doc.mapping(doc.root, "the file")
    _check_keys(doc, top, ("title", "solutions", "exercises", "seed", "limits", "cases", "tests"), "the file")
    folder = path.parent

    def folder_of(key: str, default: str) -> Path:
        text = _typed(doc, top[key], str, key) if key in top else default
        return (folder / text).resolve()

    cases = _cases(doc, top.get("cases"))
    return Assignment(
        root=path.parent.parent,
        title=_typed(doc, top["title"], str, "title") if "title" in top else path.parent.parent.name,
        solutions=folder_of("solutions", "../solutions"),
        exercises=folder_of("exercises", "../exercises"),
        seed=_typed(doc, top["seed"], int, "seed") if "seed" in top else 0,
        limits=_limits(doc, top.get("limits")),
        cases=cases,
        tests=_tests(doc, top.get("tests"), cases),
    )
