"""Shapes in an error message, said in the contract's symbols: numpy's ``operands could not be broadcast
together with shapes (4,5) (7,5)`` becomes ``(4,5) is (h, b), (7,5) is (h + d, b)`` (in a contract with those
dimensions), beside what the function takes and returns, so a student sees which contract shape their code
built where another belongs.

A size is named only when exactly one of the contract's shape expressions for the function's arguments gives
it on the case (two dimensions of the same size name neither).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from gatelab.course.contract import Contract, Draw, Function

_TUPLE = re.compile(r"\((\d+(?:\s*,\s*\d+)*)\s*,?\s*\)")


@dataclass(frozen=True)
class Translation:
    """A message's shapes in symbols, and the function's arguments and results as the contract writes them."""

    shapes: list[tuple[str, str]]  # (as the message writes it, in symbols)
    arguments: list[str]  # "x (d, b)", "params: W, U (h, h + d); c (h, 1)"
    returns: list[str]  # "y (h, b)"
    sizes: str  # "d=3, h=4, b=5": the dimensions on this case


def _environment(contract: Contract, fn: Function,
                 values: Mapping[str, float]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(argument, its kind's draws by entry (None for a plain argument), the values its shapes read)."""
    found = []
    for name, kind_name in fn.args:
        kind = contract.kinds[kind_name]
        if kind.texts:
            continue
        kind = contract.picked(kind, values)
        env: dict[str, Any] = dict(values)
        for let, expression in kind.let:
            env[let] = expression(env)
        draws = {None: kind.draw} if kind.draw is not None else dict(kind.entries)
        found.append((name, draws, env))
    return found


def _symbols(draw: Draw) -> str:
    return f"({', '.join(e.text for e in draw.shape)})"


def _sizes(contract: Contract, fn: Function, values: Mapping[str, float]) -> dict[int, str]:
    """Each size a shape expression of the function's arguments gives on the case, by its one expression."""
    texts: dict[int, set[str]] = {}
    for _, draws, env in _environment(contract, fn, values):
        for draw in draws.values():
            for expression in draw.shape:
                if expression.names:  # a literal 1 is no dimension
                    texts.setdefault(int(expression(env)), set()).add(expression.text)
    return {size: next(iter(found)) for size, found in texts.items() if len(found) == 1}


def _argument(name: str, draws: dict[Any, Draw]) -> str | None:
    if None in draws:
        return f"{name} {_symbols(draws[None])}" if draws[None].shape else None
    groups: dict[str, list[str]] = {}
    for key, draw in draws.items():
        groups.setdefault(_symbols(draw), []).append(str(key))
    return f"{name}: " + "; ".join(f"{', '.join(keys)} {shape}" for shape, keys in groups.items())


def translate(contract: Contract, fn: Function, values: Mapping[str, float], message: str) -> Translation | None:
    """The shapes ``message`` names, in the contract's symbols on a case with these ``values``; None when it
    names none that the contract's sizes explain."""
    sizes = _sizes(contract, fn, values)
    shapes: list[tuple[str, str]] = []
    for match in _TUPLE.finditer(message):
        numbers = [int(n) for n in match.group(1).split(",")]
        if len(numbers) > 1 and all(n in sizes for n in numbers) and match.group(0) not in dict(shapes):
            shapes.append((match.group(0), f"({', '.join(sizes[n] for n in numbers)})"))
    if not shapes:
        return None
    arguments = [text for name, draws, _ in _environment(contract, fn, values)
                 if (text := _argument(name, draws)) is not None]
    returns = [f"{output.name} {output.symbols}" for output in fn.returns]
    named = {name for _, symbolic in shapes for name in re.findall(r"\w+", symbolic)}
    used = [d.name for d in contract.dimensions if d.name in named]
    return Translation(shapes, arguments, returns, ", ".join(f"{d}={int(values[d])}" for d in used))
