"""Mistake families: one kind of mistake, declared once, named for every function of a kind.

``grader/mistakes/families.yaml`` holds ``kinds`` (which functions are of a
kind, with what each calls its parts: the keys of its weights, its name)
and ``families`` (a mistake as changes to the reference's inputs or result,
see :mod:`gatelab.course.mutations`, with an id, feedback and lesson written
as jinja2 templates over the member). Each family expands into ordinary
catalog mistakes, one per member (or per pair of members, with ``pairs``),
validated with file:line like hand-written entries; a new function of a kind
is covered by adding it to the kind.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from gatelab.course import mutations
from gatelab.course.contract import Contract, Function
from gatelab.errors import ConfigError, did_you_mean
from gatelab.report.render import StringTemplates
from gatelab.yamlsource import YamlSource

FAMILIES_NAME = "families.yaml"
TOP = ("kinds", "families")
KIND_FIELDS = ("about", "members")
FAMILY_FIELDS = ("id", "kind", "when", "pairs", "on", "inputs", "calls", "outputs", "feedback", "lesson")
OP_EXTRAS = {"copy": ("to",), "scale": ("by",), "swap_stack": ("top",),  # the keys an op takes besides its own
             "calls": ("part",)}
OP_OPTIONS = {op: ("only",) for op in mutations.OUTPUT_OPS}  # an output op may change one named output only
TIME_OPS = ("shift", "last_step", "free", "repeat_last", "pad_first", "time_first")


@dataclass(frozen=True)
class Expanded:
    """One family mistake for one function: what the catalog needs to make it an entry."""

    id: str
    function: str
    feedback: str
    lesson: str
    where: str
    options: dict[str, Any]  # the keyword arguments of mutations.apply
    free: bool  # its result has entries that match anything (NaN)

    @property
    def formula(self) -> Any:
        return functools.partial(mutations.apply, **self.options)


class _Templates:
    """The family's texts, rendered with jinja2 (an unknown name is an error that says where)."""

    def __init__(self, doc: YamlSource) -> None:
        self.doc = doc
        self.strings = StringTemplates(undefined=jinja2.StrictUndefined, autoescape=False,
                                       keep_trailing_newline=False)  # one text serves every member
        self.env = self.strings.env
        self.expressions: dict[str, Any] = {}

    def render(self, text: str, node: yaml.Node, context: dict[str, Any]) -> str:
        try:
            return self.strings.get(text).render(**context).strip()
        except jinja2.TemplateError as exc:
            raise ConfigError(f"cannot render {text!r}: {exc}", self.doc.where(node)) from None

    def test(self, text: str, node: yaml.Node, context: dict[str, Any]) -> bool:
        try:
            key = "when:" + text
            if key not in self.expressions:
                self.expressions[key] = self.env.compile_expression(text, undefined_to_none=False)
            return bool(self.expressions[key](**context))
        except jinja2.TemplateError as exc:
            raise ConfigError(f"cannot evaluate when: {text!r}: {exc}", self.doc.where(node)) from None


def _time_axis(shape: tuple[str, ...], time_dims: set[str]) -> int | None:
    return next((i for i, symbol in enumerate(shape) if symbol in time_dims), None)


def _arg_time(contract: Contract, fn: Function) -> dict[str, int]:
    """The time axis of each argument that has one (its kind's shape names a dimension of role time)."""
    time_dims = {d.name for d in contract.dimensions if d.role == "time"}
    axes = {}
    for name, kind in fn.args:
        draw = contract.kinds[kind].draw
        axis = _time_axis(tuple(e.text for e in draw.shape), time_dims) if draw else None
        if axis is not None:
            axes[name] = axis
    return axes


def _out_time(fn: Function) -> list[int | None]:
    return [next((i for i, axis in enumerate(o.axes) if axis.role == "time"), None) for o in fn.returns]


class _Reader:
    def __init__(self, path: Path, contract: Contract) -> None:
        self.doc = YamlSource(path)
        self.contract = contract
        self.templates = _Templates(self.doc)

    def kinds(self, node: yaml.Node | None) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """Each kind's members: (function, bindings), a function listed once per binding it has."""
        kinds = {}
        for name, kind_node in self.doc.mapping(node, "kinds").items():
            fields = self.doc.mapping(kind_node, f"kind {name}")
            self.doc.check_keys(fields, KIND_FIELDS, f"kind {name}")
            self.doc.require(fields, ("members",), f"kind {name}", kind_node)
            members = []
            for qualname, member_node in self.doc.mapping(fields["members"], f"the members of {name}").items():
                if qualname not in self.contract.by_name:
                    raise ConfigError(f"{qualname!r} is not a function of the contract."
                                      f"{did_you_mean(qualname, self.contract.by_name)}", self.doc.where(member_node))
                value = self.doc.value(member_node) if member_node is not None else None
                for bindings in value if isinstance(value, list) else [value]:
                    if not isinstance(bindings, dict):
                        raise ConfigError(f"member {qualname} must be a mapping of names to values (or a list of "
                                          "them, one per part of the function the kind is about)",
                                          self.doc.where(member_node))
                    members.append((qualname, bindings))
            kinds[name] = members
        return kinds

    def _op(self, node: yaml.Node, allowed: tuple[str, ...], context: dict[str, Any]) -> dict[str, Any]:
        fields = self.doc.mapping(node, "an op")
        names = [key for key in fields if key in allowed]
        if len(names) != 1:
            raise ConfigError(f"an op is one of {', '.join(allowed)} (with its extra keys), not {sorted(fields)}"
                              + (did_you_mean(next(iter(fields)), allowed) if fields and not names else ""),
                              self.doc.where(node))
        self.doc.check_keys(fields, (names[0], *OP_EXTRAS.get(names[0], ()), *OP_OPTIONS.get(names[0], ())),
                            f"op {names[0]}")
        self.doc.require(fields, OP_EXTRAS.get(names[0], ()), f"op {names[0]}", node)
        op = {}
        for key, value_node in fields.items():
            value = self.doc.value(value_node)
            if isinstance(value, str):
                value = self.templates.render(value, value_node, context)
            elif isinstance(value, list):
                value = [self.templates.render(v, value_node, context) if isinstance(v, str) else v for v in value]
            op[key] = value
        return op

    def _check_path(self, fn: Function, path: Any, node: yaml.Node) -> None:
        """A path an op names is an argument of ``fn``, or a key of a dict argument."""
        if not isinstance(path, str):
            raise ConfigError(f"{path!r} must name an argument of {fn.qualname} (arg or arg.key)", self.doc.where(node))
        name, _, key = path.partition(".")
        if name not in fn.arg_names:
            raise ConfigError(f"{fn.qualname} has no argument {name!r}.{did_you_mean(name, fn.arg_names)}",
                              self.doc.where(node))
        kind = self.contract.kinds[dict(fn.args)[name]]
        entries = [k for choice in self.contract.alternatives(kind) for k, _ in choice.entries]
        if key and key not in entries:
            raise ConfigError(f"{fn.qualname}'s {name} has no key {key!r}.{did_you_mean(key, entries)}",
                              self.doc.where(node))

    def _calls(self, fn: Function, fields: dict[str, yaml.Node], context: dict[str, Any]) -> list[dict[str, Any]]:
        """The changed part calls: each names a part of ``fn`` and another function that takes the same
        arguments, called in its place."""
        nodes = self.doc.sequence(fields.get("calls"), "calls")
        calls = [self._op(n, mutations.CALL_OPS, context) for n in nodes]
        for op, node in zip(calls, nodes):
            if op["part"] not in fn.parts:
                raise ConfigError(f"{op['part']!r} is not a part of {fn.qualname} (its parts: "
                                  f"{', '.join(fn.parts) or 'none'})", self.doc.where(node))
            part = self.contract.lookup(op["part"])
            other = self.contract.by_name.get(op["calls"])
            if other is None or [k for _, k in other.args] != [k for _, k in part.args]:
                raise ConfigError(f"{op['calls']!r} must be a function of the contract that takes what "
                                  f"{part.qualname} takes", self.doc.where(node))
        return calls

    def _ops(self, fn: Function, fields: dict[str, yaml.Node], context: dict[str, Any]) -> tuple[list[Any], list[Any]]:
        inputs = [self._op(n, mutations.INPUT_OPS, context) for n in self.doc.sequence(fields.get("inputs"), "inputs")]
        outputs = [self._op(n, mutations.OUTPUT_OPS, context)
                   for n in self.doc.sequence(fields.get("outputs"), "outputs")]
        for op, node in zip(inputs, self.doc.sequence(fields.get("inputs"), "inputs")):
            for key in ("zero", "copy", "to", "scale", "swap_stack", "top", "drop_first_step"):
                if key in op:
                    self._check_path(fn, op[key], node)
            if "drop_first_step" in op and op["drop_first_step"] not in _arg_time(self.contract, fn):
                raise ConfigError(f"{fn.qualname}'s {op['drop_first_step']} has no time axis", self.doc.where(node))
        for op, node in zip(outputs, self.doc.sequence(fields.get("outputs"), "outputs")):
            if "add" in op:
                self._check_path(fn, op["add"], node)
            if any(k in op for k in TIME_OPS) and all(axis is None for axis in _out_time(fn)):
                raise ConfigError(f"{fn.qualname}'s result has no time axis (a dimension of role time)",
                                  self.doc.where(node))
            names = [o.name for o in fn.returns]
            if "only" in op and (len(names) < 2 or op["only"] not in names):
                raise ConfigError(f"only must name one of {fn.qualname}'s outputs ({', '.join(names)}), and it has "
                                  "to have more than one", self.doc.where(node))
        return inputs, outputs

    def family(self, node: yaml.Node, kinds: dict[str, list[tuple[str, dict[str, Any]]]]) -> list[Expanded]:
        fields = self.doc.mapping(node, "a family")
        self.doc.check_keys(fields, FAMILY_FIELDS, "a family")
        self.doc.require(fields, ("id", "kind", "feedback", "lesson"), "a family", node)
        if not {"inputs", "outputs", "calls"} & set(fields):
            raise ConfigError("a family changes the reference's inputs, the parts it calls or its outputs: it has "
                              "none of them", self.doc.where(node))
        kind = self.doc.typed(fields["kind"], str, "kind")
        if kind not in kinds:
            raise ConfigError(f"no kind {kind!r}.{did_you_mean(kind, kinds)}", self.doc.where(fields["kind"]))
        pairs = bool(self.doc.value(fields["pairs"])) if "pairs" in fields else False
        expanded = []
        for index, (qualname, member) in enumerate(kinds[kind]):
            fn = self.contract.lookup(qualname)
            others = [{"function": q, **b} for i, (q, b) in enumerate(kinds[kind])
                      if i != index and self.contract.lookup(q).module == fn.module] if pairs else [None]
            for other in others:
                context = {"function": qualname, "module": fn.module, "name": fn.name,
                           "member": {"function": qualname, **member}, "other": other,
                           "outputs": [o.name for o in fn.returns], "args": list(fn.arg_names)}
                if "when" in fields and not self.templates.test(self.doc.typed(fields["when"], str, "when"),
                                                                fields["when"], context):
                    continue
                expanded.append(self._expand(self._on(fn, fields, context), fields, node, context))
        return expanded

    def _on(self, member: Function, fields: dict[str, yaml.Node], context: dict[str, Any]) -> Function:
        """The function the mistake is of: the member, or the one ``on`` names (a composite calling it)."""
        if "on" not in fields:
            return member
        qualname = self.templates.render(self.doc.typed(fields["on"], str, "on"), fields["on"], context)
        if qualname not in self.contract.by_name:
            raise ConfigError(f"on: {qualname!r} is not a function of the contract."
                              f"{did_you_mean(qualname, self.contract.by_name)}", self.doc.where(fields["on"]))
        return self.contract.lookup(qualname)

    def _expand(self, fn: Function, fields: dict[str, yaml.Node], node: yaml.Node,
                context: dict[str, Any]) -> Expanded:
        text = {key: self.templates.render(self.doc.typed(fields[key], str, key), fields[key], context)
                for key in ("id", "feedback", "lesson")}
        inputs, outputs = self._ops(fn, fields, context)
        options = {"function": fn.qualname, "arg_names": list(fn.arg_names), "inputs": inputs, "outputs": outputs,
                   "arg_time": _arg_time(self.contract, fn), "out_time": _out_time(fn),
                   "calls": self._calls(fn, fields, context), "out_names": [o.name for o in fn.returns]}
        free = any(k in op for op in outputs for k in mutations.FREE_OPS)
        return Expanded(text["id"], fn.qualname, " ".join(text["feedback"].split()), text["lesson"],
                        f"{self.doc.where(node)} ({fn.qualname})", options, free)


def load(path: Path, contract: Contract) -> list[Expanded]:
    """Every family of ``path`` expanded for every member of its kind, in file order; ConfigError says where."""
    reader = _Reader(path, contract)
    top = reader.doc.mapping(reader.doc.root, "a families file")
    reader.doc.check_keys(top, TOP, "a families file")
    kinds = reader.kinds(top.get("kinds"))
    expanded: list[Expanded] = []
    for node in reader.doc.sequence(top.get("families"), "families"):
        expanded.extend(reader.family(node, kinds))
    return expanded


def source() -> Path:
    """The file holding the formula every family mistake shares (the audit plants it)."""
    return Path(mutations.__file__)
