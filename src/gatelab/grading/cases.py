"""Seeded inputs for a contract function on a named case (``course.case.Case``).

A case is data from ``grader/config.yaml``: a value for every dimension of
the contract and for any of its variables. How each argument is drawn comes
from the contract's ``inputs``. Inputs depend only on the assignment seed,
the function and the case name, so a failing test replays exactly.
"""
from __future__ import annotations

import zlib
from typing import Any, Mapping

import numpy as np

from gatelab.course.case import Case
from gatelab.course.contract import Contract, Draw, Function, Kind, choice_index
from gatelab.grading.wire import safe_str


def seed_for(base_seed: int, qualname: str, case: str) -> int:
    """A stable seed for one (function, case) pair, like pytest-randomly's crc32(nodeid)."""
    return zlib.crc32(f"{base_seed}:{qualname}:{case}".encode())


def _draw(draw: Draw, env: Mapping[str, Any], rng: np.random.Generator) -> Any:
    if draw.distribution == "value":
        value = draw.parameters[0](env)
        return float(value) if isinstance(value, (int, float)) else value
    shape = tuple(int(e(env)) for e in draw.shape)
    if draw.distribution == "normal":
        x = rng.normal(0.0, draw.parameters[0](env), shape)
    elif draw.distribution == "integers":
        return rng.integers(int(draw.parameters[0](env)), int(draw.parameters[1](env)), shape)
    else:
        x = rng.uniform(draw.parameters[0](env), draw.parameters[1](env), shape)
    if draw.saturate is not None and draw.saturate.when(env):
        spare = draw.saturate
        x = np.sign(x) * spare.magnitude(env)
        x.flat[:: spare.spare_every] = rng.uniform(spare.spare[0](env), spare.spare[1](env),
                                                   x.flat[:: spare.spare_every].shape)
    if draw.then is not None:
        x = np.asarray(draw.then({**env, "x": x}), dtype=np.float64)
    return x


def build(kind: Kind, case: Case, rng: np.random.Generator, contract: Contract | None = None) -> Any:
    """One argument of ``kind`` for ``case``: an array, a number, a word, or a dict of them (a choosing kind
    needs the ``contract`` whose kinds it picks from; its variables' defaults fill what the case leaves out)."""
    env: dict[str, Any] = {**(dict(contract.variables) if contract else {}), **dict(case.values)}
    if kind.texts:
        return kind.texts[choice_index(kind, env)]
    if kind.kinds:
        assert contract is not None, "a choosing kind is built with its contract"
        kind = contract.picked(kind, env)
    for name, expression in kind.let:
        env[name] = expression(env)
    if kind.draw is not None:
        return _draw(kind.draw, env, rng)
    return {key: _draw(draw, env, rng) for key, draw in kind.entries}


def make_args(contract: Contract, fn: Function, case: Case, base_seed: int) -> list[Any]:
    """Fresh inputs for ``fn`` on ``case``; the same values always give the same arrays."""
    rng = np.random.default_rng(seed_for(base_seed, fn.qualname, case.name))
    return [build(contract.kinds[kind], case, rng, contract) for _, kind in fn.args]


def _shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a number or an array; None for anything else."""
    plain = isinstance(value, (int, float, np.ndarray, np.generic)) and not isinstance(value, bool)
    return tuple(np.shape(value)) if plain else None


def dimensions_of(contract: Contract, fn: Function, args: list[Any]) -> dict[str, float]:
    """The dimensions ``args`` give ``fn`` (each read from an axis the contract writes as that dimension alone),
    with the contract's variables: the case of a call on inputs not drawn from one (an instructor's own test)."""
    dimensions = {d.name for d in contract.dimensions}
    found: dict[str, float] = {}
    for (_, kind_name), value in zip(fn.args, args):
        kind = contract.matching(contract.kinds[kind_name], value)
        draws = [(kind.draw, value)] if kind.draw is not None else \
            [(d, value.get(k)) for k, d in kind.entries] if isinstance(value, dict) else []
        for draw, item in draws:
            for expr, length in zip(draw.shape, _shape(item) or ()):
                if expr.text in dimensions:
                    found.setdefault(expr.text, length)
    return {**dict(contract.variables), **found}


def refusal(contract: Contract, part: Function, args: list[Any], values: Mapping[str, float]) -> str | None:
    """Why a served ``part`` may not be computed on ``args`` (None when it may): every argument must have the
    shape the contract writes for it, each dimension taking one value, at most its value in ``values`` (the
    case's), in all of them. So a composite cannot make the grader broadcast a small argument into a huge
    array."""
    if len(args) > len(part.args):
        return f"asked for {part.qualname} with {len(args)} arguments where the contract says {len(part.args)}"
    checks: list[tuple[str, tuple[int, ...] | None, Draw, Kind]] = []  # (argument, its shape, draw, kind)
    for (name, kind_name), value in zip(part.args, args):
        kind = contract.matching(contract.kinds[kind_name], value)
        if kind.texts:
            if value not in kind.texts:
                return (f"asked for {part.qualname} with {name} = {safe_str(value, 40)}, not one of "
                        f"{', '.join(kind.texts)}")
        elif kind.draw is not None:
            checks.append((name, _shape(value), kind.draw, kind))
        elif not isinstance(value, dict):
            return f"asked for {part.qualname} with an argument {name} that is not a dict of arrays"
        else:
            checks += [(f"{name}[{key!r}]", _shape(value[key]), draw, kind) for key, draw in kind.entries
                       if key in value]
    case_values = {**dict(contract.variables), **values}
    dimensions = {d.name for d in contract.dimensions}
    bound: dict[str, float] = {}
    for _, shape, draw, _ in checks:  # a dimension written alone on an axis takes that axis's length
        for expr, length in zip(draw.shape, shape or ()):
            if expr.text in dimensions and length <= case_values.get(expr.text, length):  # unknown: the call's own
                bound.setdefault(expr.text, length)
    known = {**case_values, **bound}
    for name, shape, draw, kind in checks:
        if not _sizes_read(draw, kind) <= set(known):  # a size no argument shows
            return (f"asked for {part.qualname} with an argument {name} whose shape does not show every size the "
                    f"contract writes for it, ({', '.join(e.text for e in draw.shape)})")
        wanted = _evaluated(draw, kind, known)
        if shape != wanted:
            said = f"({', '.join(e.text for e in draw.shape)})" if draw.shape else "a number"
            got = "a value that is not a number or an array" if shape is None else f"shape {shape}"
            largest = _evaluated(draw, kind, case_values) if _sizes_read(draw, kind) <= set(case_values) else wanted
            return (f"asked for {part.qualname} with an argument {name} of {got} where the contract says "
                    f"{said}: {wanted} with its other arguments" + (f", at most {largest} on this case"
                                                                    if largest != wanted else ""))
    return None


def _sizes_read(draw: Draw, kind: Kind) -> set[str]:
    """The dimensions and variables ``draw``'s shape reads from the case (its kind's ``let`` names aside)."""
    return {name for expr in draw.shape for name in expr.names} - {local for local, _ in kind.let}


def _evaluated(draw: Draw, kind: Kind, values: Mapping[str, Any]) -> tuple[int, ...]:
    """The shape ``draw`` writes, for these dimensions."""
    env = dict(values)
    for local, expression in kind.let:
        env[local] = expression(env)
    return tuple(int(e(env)) for e in draw.shape)
