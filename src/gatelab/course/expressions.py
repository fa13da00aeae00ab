"""Small arithmetic expressions an assignment writes in its contract: shapes, scales, transforms.

``n + d``, ``1.5 / sqrt(n + d)``, ``scale if scale > 1 else 1.5``,
``1 / (1 + exp(-x))``. An expression is parsed once with Python's ``ast``
and may use only numbers, the names it is given, arithmetic, comparisons,
``and``/``or``/``not``, ``a if c else b``, and calls of numpy's elementwise
functions (``sqrt``, ``exp``, ``log``...) or ``min``, ``max``, ``abs``. Nothing
else parses, so an assignment file cannot run code in the grader.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_BUILTINS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "abs": abs, "int": int, "float": float,
                                            "round": round}


class ExpressionError(ValueError):
    """An expression that does not parse, uses something not allowed, or names an unknown value."""


def _function(name: str) -> Callable[..., Any] | None:
    """A callable an expression may use by this name: a numpy ufunc, or one of a few builtins."""
    if name in _BUILTINS:
        return _BUILTINS[name]
    candidate = getattr(np, name, None)
    return candidate if isinstance(candidate, np.ufunc) else None


@dataclass(frozen=True)
class Expression:
    """A parsed expression and the names it reads."""

    text: str
    tree: ast.expr
    names: frozenset[str]

    def __call__(self, values: Mapping[str, Any]) -> Any:
        return _evaluate(self.tree, values, self.text)


def parse(text: str | int | float, allowed: Iterable[str]) -> Expression:
    """Parse ``text``; every name it reads must be in ``allowed`` (or a function it calls)."""
    source = str(text).strip()
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"{source!r} is not an expression: {exc.msg}") from None
    allowed = set(allowed)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or _function(node.func.id) is None or node.keywords:
                raise ExpressionError(f"{source!r}: only calls of numpy's elementwise functions (sqrt, exp, "
                                      "log...) and min, max, abs, int, float, round are allowed")
        elif isinstance(node, ast.Name):
            if node.id not in allowed and _function(node.id) is None:
                from gatelab.errors import did_you_mean

                raise ExpressionError(f"{source!r} uses {node.id!r}, which is not defined here."
                                      f"{did_you_mean(node.id, allowed)}")
            names.add(node.id)
        elif not isinstance(node, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp,
                                   ast.Load, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Tuple)):
            raise ExpressionError(f"{source!r}: {type(node).__name__} is not allowed in an expression")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ExpressionError(f"{source!r}: only numbers may be written in an expression")
    return Expression(source, tree, frozenset(names))


def _evaluate(node: ast.expr, values: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in values:
            return values[node.id]
        return _function(node.id)
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, values, text), _evaluate(node.right, values, text))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, values, text))
    if isinstance(node, ast.Compare):  # elementwise on arrays; a chain a < b < c is (a < b) and (b < c)
        left, holds = _evaluate(node.left, values, text), True
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, values, text)
            holds = np.logical_and(holds, _COMPARE[type(op)](left, right))
            left = right
        return holds if isinstance(holds, np.ndarray) else bool(holds)
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for value_node in node.values:
            result = _evaluate(value_node, values, text)
            if isinstance(node.op, ast.And) and not result or isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.IfExp):
        branch = node.body if _evaluate(node.test, values, text) else node.orelse
        return _evaluate(branch, values, text)
    if isinstance(node, ast.Call):
        function = _function(node.func.id)  # type: ignore[attr-defined]
        assert function is not None
        return function(*(_evaluate(a, values, text) for a in node.args))
    if isinstance(node, ast.Tuple):
        return tuple(_evaluate(e, values, text) for e in node.elts)
    raise ExpressionError(f"{text!r}: cannot evaluate {type(node).__name__}")
