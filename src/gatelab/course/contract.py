"""The assignment's contract, read from ``grader/contract.yaml``: what students write, as data.

The engine knows no course. The contract names the dimensions shapes are
written in (with what each means: features, examples, time), how each kind
of argument is drawn, and for every function its arguments, its result (with
shapes, ranges and hints for diagnostics), the parts it is built from and
whether it must stay free of warnings. Everything is validated on loading,
with file:line and "did you mean".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from gatelab.course.expressions import Expression, ExpressionError, parse
from gatelab.errors import ConfigError, did_you_mean
from gatelab.yamlsource import YamlSource

CONTRACT_NAME = "contract.yaml"
ROLES = ("features", "examples", "time")
DRAWS = ("normal", "uniform", "integers", "value")
RANGE_HINTS = ("outside", "never_negative", "cut_at_zero")


@dataclass(frozen=True)
class Dimension:
    """A name shapes are written in (``n``), what it counts, and the role of an axis of that length."""

    name: str
    about: str
    role: str = ""


@dataclass(frozen=True)
class Saturation:
    """Special values: every entry set to +-``magnitude`` (its sign kept) when ``when`` holds, but every
    ``spare_every``-th entry drawn uniformly from ``spare``."""

    when: Expression
    magnitude: Expression
    spare_every: int
    spare: tuple[Expression, Expression]


@dataclass(frozen=True)
class Draw:
    """How one array (or number) is drawn: a distribution over a shape, then an optional transform."""

    distribution: str  # normal | uniform | integers | value
    parameters: tuple[Expression, ...]  # (sd,) | (low, high) | (low, high), high excluded | (value,)
    shape: tuple[Expression, ...] = ()
    then: Expression | None = None  # over ``x``, the drawn array
    saturate: Saturation | None = None


@dataclass(frozen=True)
class Kind:
    """A kind of argument: one draw, a dict of named draws (a parameter dict, say), or a choice made by a
    case's variable ``by``: one of ``texts`` (a word, such as which cell to run) or one of ``kinds``."""

    name: str
    about: str
    draw: Draw | None = None
    entries: tuple[tuple[str, Draw], ...] = ()
    let: tuple[tuple[str, Expression], ...] = ()  # local values, computed before the draws
    by: str = ""  # a variable or dimension whose value (0, 1, ...) picks one of texts or kinds
    texts: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    @property
    def symbols(self) -> str:
        shape = self.draw.shape if self.draw else ()
        return f"({', '.join(e.text for e in shape)})" if shape else ""


@dataclass(frozen=True)
class Axis:
    """One axis of a result: how feedback names it, and its role (for the hints that need one)."""

    label: str
    role: str = ""


@dataclass(frozen=True)
class Output:
    """One quantity a function returns: its name, its shape in symbols, its axes, range and hints."""

    name: str
    symbols: str  # "(n, d)", "the same shape as x", "a number", "the same keys and shapes as table", "a dict: ..."
    axes: tuple[Axis, ...] = ()
    range: tuple[float, float] | None = None
    hints: tuple[tuple[str, str], ...] = ()
    atol: float | None = None  # its own absolute tolerance (0 for a result whose tiny values carry the answer)

    def hint(self, key: str) -> str:
        return dict(self.hints).get(key, "")


@dataclass(frozen=True)
class GradientOf:
    """A backward function's forward pass: ``function``, whose arguments the backward takes too, and the
    backward's ``upstream`` arguments, one per result of the forward (in order; results after them get none).
    The backward returns ``"d" + name`` for each of the forward's array arguments and dict entries it names:
    the gradient of L = the sum over the results of (upstream * result)."""

    function: str
    upstream: tuple[str, ...]


@dataclass(frozen=True)
class Function:
    """One function a student implements."""

    module: str
    name: str
    args: tuple[tuple[str, str], ...]  # (argument name, kind name)
    returns: tuple[Output, ...]
    parts: tuple[str, ...] = ()  # qualified names of the functions it is built from
    quiet: str | None = None  # None: warnings allowed; else the hint shown when it warns
    where: str = ""
    gradient_of: GradientOf | None = None  # a backward function: checked against the student's own forward

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.args)

    @property
    def warn_free(self) -> bool:
        return self.quiet is not None


@dataclass(frozen=True)
class ErrorHint:
    """What to add when a student's function raises ``type`` (and the message holds ``contains``)."""

    type: str
    contains: str
    hint: str


@dataclass(frozen=True)
class Contract:
    """Every function of an assignment, and what the engine needs to draw inputs and explain results."""

    path: Path
    dimensions: tuple[Dimension, ...]
    variables: tuple[tuple[str, float], ...]
    kinds: dict[str, Kind]
    functions: tuple[Function, ...]
    error_hints: tuple[ErrorHint, ...] = ()
    shape_hints: tuple[tuple[str, str], ...] = ()
    by_name: dict[str, Function] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.qualname: f for f in self.functions})

    @property
    def modules(self) -> tuple[str, ...]:
        """The modules, in the order the contract lists them."""
        return tuple(dict.fromkeys(f.module for f in self.functions))

    def lookup(self, qualname: str) -> Function:
        return self.by_name[qualname]

    def picked(self, kind: Kind, values: Mapping[str, float]) -> Kind:
        """The kind a choosing ``kind`` picks with these case ``values``; any other kind itself."""
        if not kind.kinds:
            return kind
        return self.kinds[kind.kinds[choice_index(kind, values)]]

    def alternatives(self, kind: Kind) -> list[Kind]:
        """Every kind ``kind`` may stand for: its choices, or itself."""
        return [self.kinds[name] for name in kind.kinds] or [kind]

    def matching(self, kind: Kind, value: Any) -> Kind:
        """The kind a choosing ``kind`` stands for, read from a ``value`` (the choice whose dict keys it has)."""
        choices = self.alternatives(kind)
        found = [k for k in choices if isinstance(value, dict) and {e for e, _ in k.entries} == set(value)]
        return found[0] if found else choices[0]

    def dimensions_used(self, fn: Function) -> frozenset[str]:
        """The dimensions that size ``fn``'s arguments (read from their shapes, through any ``let`` values)."""
        names: set[str] = set()
        for kind in (k for _, name in fn.args for k in self.alternatives(self.kinds[name])):
            lets = dict(kind.let)
            draws = [kind.draw] if kind.draw is not None else [draw for _, draw in kind.entries]
            pending = [name for draw in draws for expr in draw.shape for name in expr.names]
            while pending:
                name = pending.pop()
                if name not in names:
                    names.add(name)
                    pending.extend(lets[name].names if name in lets else ())
        return frozenset(names) & {d.name for d in self.dimensions}

    def functions_of(self, module: str) -> list[Function]:
        return [f for f in self.functions if f.module == module]

    def error_hint(self, type_name: str, message: str) -> str:
        """The first hint for an exception of this type whose message holds the hint's text."""
        return next((h.hint for h in self.error_hints if h.type == type_name and h.contains in message), "")

    def shape_hint(self, key: str) -> str:
        return dict(self.shape_hints).get(key, "")

    def below(self, fn: Function) -> list[str]:
        """Every function ``fn`` is built from, directly or through its parts."""
        seen: list[str] = []
        stack = list(fn.parts)
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.append(name)
                stack.extend(self.lookup(name).parts)
        return seen


def choice_index(kind: Kind, values: Mapping[str, float]) -> int:
    """Which of a choosing kind's choices the case's value of ``kind.by`` picks (0 for the first)."""
    value = values.get(kind.by, 0)
    count = len(kind.texts or kind.kinds)
    if value != int(value) or not 0 <= value < count:
        raise ConfigError(f"inputs.{kind.name} picks by {kind.by}, which must be 0 .. {count - 1} on every case "
                          f"that uses it, not {value:g}")
    return int(value)


class _Reader:
    """Reads one contract file; every method raises ConfigError with file:line."""

    def __init__(self, path: Path) -> None:
        self.doc = YamlSource(path)
        self.names: list[str] = []  # dimension and variable names, for expressions

    def expression(self, node: yaml.Node, what: str, extra: tuple[str, ...] = ()) -> Expression:
        value = self.doc.value(node)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{what} must be a number or an expression, not {value!r}", self.doc.where(node))
        try:
            return parse(value, [*self.names, *extra])
        except ExpressionError as exc:
            raise ConfigError(f"{what}: {exc}", self.doc.where(node)) from None

    def text(self, entries: dict[str, yaml.Node], key: str, what: str, default: str = "") -> str:
        return self.doc.typed(entries[key], str, f"{what}.{key}").strip() if key in entries else default

    def dimensions(self, node: yaml.Node | None) -> tuple[Dimension, ...]:
        dims = []
        for name, entry in self.doc.mapping(node, "dimensions").items():
            fields = self.doc.mapping(entry, f"dimensions.{name}")
            self.doc.check_keys(fields, ("about", "role"), f"dimensions.{name}")
            role = self.text(fields, "role", f"dimensions.{name}")
            if role and role not in ROLES:
                raise ConfigError(f"dimensions.{name}.role must be one of {', '.join(ROLES)}, not {role!r}."
                                  f"{did_you_mean(role, ROLES)}", self.doc.where(fields["role"]))
            dims.append(Dimension(name, self.text(fields, "about", f"dimensions.{name}", name), role))
        if not dims:
            raise ConfigError("the contract names no dimensions", self.doc.where(node))
        return tuple(dims)

    def variables(self, node: yaml.Node | None) -> tuple[tuple[str, float], ...]:
        return tuple((name, self.doc.typed(value, float, f"variables.{name}"))
                     for name, value in self.doc.mapping(node, "variables").items())

    def draw(self, fields: dict[str, yaml.Node], node: yaml.Node, what: str, let: tuple[str, ...]) -> Draw:
        """One draw from its fields (``shape``, one of ``normal``/``uniform``/``value``, ``then``, ``saturate``)."""
        self.doc.check_keys(fields, ("shape", *DRAWS, "then", "saturate"), what)
        chosen = [d for d in DRAWS if d in fields]
        if len(chosen) != 1:
            raise ConfigError(f"{what} needs exactly one of {', '.join(DRAWS)}", self.doc.where(node))
        distribution = chosen[0]
        names = (*let,)
        if distribution in ("uniform", "integers"):
            bounds = self.doc.sequence(fields[distribution], f"{what}.{distribution}")
            if len(bounds) != 2:
                raise ConfigError(f"{what}.{distribution} must be [low, high]", self.doc.where(fields[distribution]))
            parameters = tuple(self.expression(b, f"{what}.{distribution}", names) for b in bounds)
        else:
            parameters = (self.expression(fields[distribution], f"{what}.{distribution}", names),)
        shape = tuple(self.expression(n, f"{what}.shape", names)
                      for n in self.doc.sequence(fields.get("shape"), f"{what}.shape"))
        if distribution != "value" and not shape:
            raise ConfigError(f"{what} draws an array, so it needs a shape", self.doc.where(node))
        then = self.expression(fields["then"], f"{what}.then", (*names, "x")) if "then" in fields else None
        saturate = self.saturation(fields["saturate"], f"{what}.saturate", names) if "saturate" in fields else None
        return Draw(distribution, parameters, shape, then, saturate)

    def saturation(self, node: yaml.Node, what: str, names: tuple[str, ...]) -> Saturation:
        fields = self.doc.mapping(node, what)
        keys = ("when", "magnitude", "spare_every", "spare")
        self.doc.check_keys(fields, keys, what)
        self.doc.require(fields, keys, what, node)
        spare = self.doc.sequence(fields["spare"], f"{what}.spare")
        if len(spare) != 2:
            raise ConfigError(f"{what}.spare must be [low, high]", self.doc.where(fields["spare"]))
        every = self.doc.typed(fields["spare_every"], int, f"{what}.spare_every")
        if every < 1:
            raise ConfigError(f"{what}.spare_every must be at least 1", self.doc.where(fields["spare_every"]))
        return Saturation(self.expression(fields["when"], f"{what}.when", names),
                          self.expression(fields["magnitude"], f"{what}.magnitude", names), every,
                          (self.expression(spare[0], f"{what}.spare", names),
                           self.expression(spare[1], f"{what}.spare", names)))

    def kinds(self, node: yaml.Node | None) -> dict[str, Kind]:
        kinds = {}
        for name, entry in self.doc.mapping(node, "inputs").items():
            what = f"inputs.{name}"
            fields = self.doc.mapping(entry, what)
            let_nodes = self.doc.mapping(fields.get("let"), f"{what}.let")
            let: list[tuple[str, Expression]] = []
            for key, value in let_nodes.items():
                let.append((key, self.expression(value, f"{what}.let.{key}", tuple(k for k, _ in let))))
            local = tuple(k for k, _ in let)
            about = self.text(fields, "about", what)
            rest = {k: v for k, v in fields.items() if k not in ("about", "let")}
            if "by" in rest:
                kinds[name] = self.choice(name, about, rest, entry)
            elif "dict" in rest:
                self.doc.check_keys(rest, ("dict",), what)
                entries = tuple((key, self.draw(self.doc.mapping(value, f"{what}.dict.{key}"), value,
                                                f"{what}.dict.{key}", local))
                                for key, value in self.doc.mapping(rest["dict"], f"{what}.dict").items())
                kinds[name] = Kind(name, about, None, entries, tuple(let))
            else:
                kinds[name] = Kind(name, about, self.draw(rest, entry, what, local), (), tuple(let))
        if not kinds:
            raise ConfigError("the contract describes no inputs", self.doc.where(node))
        written = self.doc.mapping(node, "inputs")
        for kind in kinds.values():
            for choice in kind.kinds:
                if choice not in kinds or kinds[choice].by:
                    raise ConfigError(f"inputs.{kind.name}.kinds: {choice!r} is not an input kind that draws."
                                      f"{did_you_mean(choice, [k for k in kinds if not kinds[k].by])}",
                                      self.doc.where(written[kind.name]))
        return kinds

    def choice(self, name: str, about: str, fields: dict[str, yaml.Node], node: yaml.Node) -> Kind:
        """A kind chosen by a case's value of ``by``: ``texts`` (words) or ``kinds`` (other kinds' names)."""
        what = f"inputs.{name}"
        self.doc.check_keys(fields, ("by", "texts", "kinds"), what)
        by = self.doc.typed(fields["by"], str, f"{what}.by")
        if by not in self.names:
            raise ConfigError(f"{what}.by: {by!r} is not a dimension or variable.{did_you_mean(by, self.names)}",
                              self.doc.where(fields["by"]))
        chosen = [k for k in ("texts", "kinds") if k in fields]
        if len(chosen) != 1:
            raise ConfigError(f"{what} needs exactly one of texts, kinds", self.doc.where(node))
        items = tuple(self.doc.typed(n, str, f"{what}.{chosen[0]}")
                      for n in self.doc.sequence(fields[chosen[0]], f"{what}.{chosen[0]}"))
        if not items:
            raise ConfigError(f"{what}.{chosen[0]} is empty", self.doc.where(fields[chosen[0]]))
        return Kind(name, about, by=by, texts=items if chosen[0] == "texts" else (),
                    kinds=items if chosen[0] == "kinds" else ())


def _axes(shape: list[str], dims: dict[str, Dimension]) -> tuple[Axis, ...]:
    return tuple(Axis(dims[s].about, dims[s].role) if s in dims else Axis(f"axis {i}") for i, s in enumerate(shape))


class _FunctionReader:
    """Reads the ``modules`` section, once dimensions and kinds are known."""

    FIELDS = ("args", "returns", "parts", "quiet", "about", "gradient_of")
    OUTPUT_FIELDS = ("name", "shape", "like", "number", "keys", "range", "hints", "atol")

    def __init__(self, reader: _Reader, dims: tuple[Dimension, ...], kinds: dict[str, Kind]) -> None:
        self.reader = reader
        self.doc = reader.doc
        self.dims = {d.name: d for d in dims}
        self.kinds = kinds
        self.parts_where: dict[str, str] = {}
        self.gradient_where: dict[str, str] = {}

    def functions(self, node: yaml.Node | None) -> tuple[Function, ...]:
        functions = []
        for module, module_node in self.doc.mapping(node, "modules").items():
            for name, fn_node in self.doc.mapping(module_node, f"modules.{module}").items():
                functions.append(self.function(module, name, fn_node))
        if not functions:
            raise ConfigError("the contract lists no functions", self.doc.where(node))
        known = {f.qualname for f in functions}
        for fn in functions:
            for part in fn.parts:
                if part not in known:
                    raise ConfigError(f"{fn.qualname}: part {part!r} is not a function of the contract."
                                      f"{did_you_mean(part, known)}", self.parts_where[fn.qualname])
                if part == fn.qualname:
                    raise ConfigError(f"{fn.qualname} cannot be one of its own parts", self.parts_where[fn.qualname])
        by_name = {f.qualname: f for f in functions}
        for fn in (f for f in functions if f.gradient_of):
            self.check_gradient(fn, by_name)
        return tuple(functions)

    def check_gradient(self, fn: Function, by_name: dict[str, Function]) -> None:
        """A backward's forward is a contract function whose arguments the backward takes as well, and its
        upstream arguments are the backward's own, no more than the forward's results."""
        assert fn.gradient_of is not None
        forward, where = fn.gradient_of.function, self.gradient_where[fn.qualname]
        if forward not in by_name:
            raise ConfigError(f"{fn.qualname}.gradient_of: {forward!r} is not a function of the contract."
                              f"{did_you_mean(forward, by_name)}", where)
        missing = [a for a in by_name[forward].arg_names if a not in fn.arg_names]
        if missing:
            raise ConfigError(f"{fn.qualname}.gradient_of: {forward} takes {', '.join(missing)}, which "
                              f"{fn.qualname} does not", where)
        for name in fn.gradient_of.upstream:
            if name not in fn.arg_names or name in by_name[forward].arg_names:
                raise ConfigError(f"{fn.qualname}.gradient_of.upstream: {name!r} is not an argument of "
                                  f"{fn.qualname} that {forward} does not take", where)
        if len(fn.gradient_of.upstream) > len(by_name[forward].returns):
            raise ConfigError(f"{fn.qualname}.gradient_of.upstream names more upstream arguments than {forward} has "
                              "results", where)

    def function(self, module: str, name: str, node: yaml.Node) -> Function:
        what = f"{module}.{name}"
        fields = self.doc.mapping(node, what)
        self.doc.check_keys(fields, self.FIELDS, what)
        self.doc.require(fields, ("args", "returns"), what, node)
        args = []
        for arg, kind_node in self.doc.mapping(fields["args"], f"{what}.args").items():
            kind = self.doc.typed(kind_node, str, f"{what}.args.{arg}")
            if kind not in self.kinds:
                raise ConfigError(f"{what}.args.{arg}: no input kind {kind!r}.{did_you_mean(kind, self.kinds)}",
                                  self.doc.where(kind_node))
            args.append((arg, kind))
        returns_node = fields["returns"]
        outputs = self.doc.sequence(returns_node, f"{what}.returns") \
            if isinstance(returns_node, yaml.SequenceNode) else [returns_node]
        returns = tuple(self.output(o, f"{what}.returns", dict(args)) for o in outputs)
        parts = tuple(self.doc.typed(p, str, f"{what}.parts") for p in self.doc.sequence(fields.get("parts"),
                                                                                        f"{what}.parts"))
        self.parts_where[what] = self.doc.where(fields.get("parts", node))
        quiet = self.reader.text(fields, "quiet", what) if "quiet" in fields else None
        return Function(module, name, tuple(args), returns, parts, quiet, self.doc.where(node),
                        self.gradient_of(fields.get("gradient_of"), what))

    def gradient_of(self, node: yaml.Node | None, what: str) -> GradientOf | None:
        """``gradient_of: {function: module.name, upstream: [arg, ...]}``, checked once every function is read."""
        if node is None:
            return None
        fields = self.doc.mapping(node, f"{what}.gradient_of")
        self.doc.check_keys(fields, ("function", "upstream"), f"{what}.gradient_of")
        self.doc.require(fields, ("function", "upstream"), f"{what}.gradient_of", node)
        self.gradient_where[what] = self.doc.where(node)
        upstream = tuple(self.doc.typed(n, str, f"{what}.gradient_of.upstream")
                         for n in self.doc.sequence(fields["upstream"], f"{what}.gradient_of.upstream"))
        return GradientOf(self.doc.typed(fields["function"], str, f"{what}.gradient_of.function"), upstream)

    def output(self, node: yaml.Node, what: str, args: dict[str, str]) -> Output:
        fields = self.doc.mapping(node, what)
        self.doc.check_keys(fields, self.OUTPUT_FIELDS, what)
        self.doc.require(fields, ("name",), what, node)
        name = self.reader.text(fields, "name", what)
        shapes = [k for k in ("shape", "like", "number", "keys") if k in fields]
        if len(shapes) != 1:
            raise ConfigError(f"{what} {name!r} needs exactly one of shape, like, number, keys", self.doc.where(node))
        axes: tuple[Axis, ...] = ()
        if "shape" in fields:
            shape = [str(self.doc.value(n)) for n in self.doc.sequence(fields["shape"], f"{what}.shape")]
            for n in self.doc.sequence(fields["shape"], f"{what}.shape"):
                self.reader.expression(n, f"{what}.shape")
            symbols, axes = f"({', '.join(shape)})", _axes(shape, self.dims)
        elif "like" in fields:
            like = self.reader.text(fields, "like", what)
            if like not in args:
                raise ConfigError(f"{what}.like: {like!r} is not an argument.{did_you_mean(like, args)}",
                                  self.doc.where(fields["like"]))
            kind = self.kinds[args[like]]
            symbols = f"the same keys and shapes as {like}" if kind.entries or kind.kinds \
                else f"the same shape as {like}"
            if kind.draw is not None:
                axes = _axes([e.text for e in kind.draw.shape], self.dims)
        elif "keys" in fields:
            keyed = []
            for key, shape_node in self.doc.mapping(fields["keys"], f"{what}.keys").items():
                shape = [str(self.doc.value(n)) for n in self.doc.sequence(shape_node, f"{what}.keys.{key}")]
                for n in self.doc.sequence(shape_node, f"{what}.keys.{key}"):
                    self.reader.expression(n, f"{what}.keys.{key}")
                keyed.append(f"{key} ({', '.join(shape)})")
            symbols = "a dict: " + ", ".join(keyed)
        else:
            symbols = "a number"
        value_range = None
        if "range" in fields:
            bounds = self.doc.sequence(fields["range"], f"{what}.range")
            if len(bounds) != 2:
                raise ConfigError(f"{what}.range must be [low, high]", self.doc.where(fields["range"]))
            value_range = (self.doc.typed(bounds[0], float, f"{what}.range"),
                           self.doc.typed(bounds[1], float, f"{what}.range"))
        hints_node = self.doc.mapping(fields.get("hints"), f"{what}.hints")
        self.doc.check_keys(hints_node, RANGE_HINTS, f"{what}.hints")
        hints = tuple((k, self.doc.typed(v, str, f"{what}.hints.{k}").strip()) for k, v in hints_node.items())
        atol = self.doc.typed(fields["atol"], float, f"{what}.atol") if "atol" in fields else None
        if atol is not None and not atol >= 0:
            raise ConfigError(f"{what}.atol must be 0 or more", self.doc.where(fields["atol"]))
        return Output(name, symbols, axes, value_range, hints, atol)


def _error_hints(doc: YamlSource, node: yaml.Node | None) -> tuple[ErrorHint, ...]:
    hints = []
    for entry in doc.sequence(node, "error_hints"):
        fields = doc.mapping(entry, "an error hint")
        doc.check_keys(fields, ("type", "contains", "hint"), "an error hint")
        doc.require(fields, ("type", "hint"), "an error hint", entry)
        hints.append(ErrorHint(doc.typed(fields["type"], str, "type"),
                               doc.typed(fields["contains"], str, "contains") if "contains" in fields else "",
                               doc.typed(fields["hint"], str, "hint").strip()))
    return tuple(hints)


def load(grader: Path) -> Contract:
    """Read and validate ``grader/contract.yaml``."""
    path = Path(grader) / CONTRACT_NAME
    if not path.is_file():
        raise ConfigError(f"{path}: the assignment has no contract (the functions students write); see "
                          "docs/instructor/contract.md")
    reader = _Reader(path)
    doc = reader.doc
    top = doc.mapping(doc.root, "the contract")
    doc.check_keys(top, ("dimensions", "variables", "inputs", "modules", "error_hints", "shape_hints"),
                   "the contract")
    dims = reader.dimensions(top.get("dimensions"))
    variables = reader.variables(top.get("variables"))
    reader.names = [d.name for d in dims] + [name for name, _ in variables]
    kinds = reader.kinds(top.get("inputs"))
    functions = _FunctionReader(reader, dims, kinds).functions(top.get("modules"))
    shape_hints = doc.mapping(top.get("shape_hints"), "shape_hints")
    doc.check_keys(shape_hints, ("transposed",), "shape_hints")
    return Contract(path, dims, variables, kinds, functions, _error_hints(doc, top.get("error_hints")),
                    tuple((k, doc.typed(v, str, f"shape_hints.{k}").strip()) for k, v in shape_hints.items()))
