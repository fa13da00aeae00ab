"""Student stubs from reference solutions: ``solutions/`` -> ``exercises/``.

A reference function body sits between two plain comments::

    # BEGIN SOLUTION (hint: scale the input, then add the offset)
    ...
    # END SOLUTION

In the exercise, the marked lines become ``stub.j2``: a TODO with the hint
and ``raise NotImplementedError(hint)``. Everything else (imports,
docstrings with the equation and shapes) is kept as it is.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Mapping, Sequence

from gatelab.errors import ConfigError
from gatelab.report.render import Renderer
from gatelab.textfiles import NotText, read_text

_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?:\s*\(hint:\s*(?P<hint>.*)\))?\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")
_NEAR = re.compile(r"^\s*#+\s*(BEGIN|END)\b[\s_-]*SOL", re.IGNORECASE)  # a marker, maybe misspelt
DEFAULT_HINT = "replace this line with your implementation"


def stub_source(text: str, where: str, renderer: Renderer) -> str:
    """``text`` with every marked solution region replaced by a stub."""
    out: list[str] = []
    begin: tuple[int, re.Match[str]] | None = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        start, end = _BEGIN.match(line), _END.match(line)
        if not start and not end and _NEAR.match(line):
            raise ConfigError(f"{line.strip()!r} looks like a solution marker but is not one; write it exactly as "
                              "'# BEGIN SOLUTION (hint: ...)' or '# END SOLUTION', or the solution is published",
                              f"{where}:{number}")
        if start:
            if begin:
                raise ConfigError(f"BEGIN SOLUTION inside the region opened at line {begin[0]}", f"{where}:{number}")
            begin = (number, start)
        elif end:
            if not begin:
                raise ConfigError("END SOLUTION without a BEGIN SOLUTION above it", f"{where}:{number}")
            hint = begin[1].group("hint") or DEFAULT_HINT
            out.append(renderer.render("stub.j2", indent=begin[1].group("indent"), hint=hint.strip()))
            begin = None
        elif not begin:
            out.append(line)
    if begin:
        raise ConfigError("BEGIN SOLUTION is never closed by END SOLUTION", f"{where}:{begin[0]}")
    return "".join(out)


def check_regions(text: str, where: str, functions: Sequence[str]) -> None:
    """Refuse a reference file in which a function students write has no marked solution region.

    Without one, ``grade generate`` would copy the function's body, the
    answer, into the exercises.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ConfigError(f"the reference does not parse: {exc.msg}", f"{where}:{exc.lineno or 1}") from None
    lines = text.splitlines()
    defined = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for name in functions:
        node = defined.get(name)
        if node is None:
            raise ConfigError(f"the reference defines no function {name}() that the assignment lists", where)
        body = lines[node.lineno - 1:node.end_lineno or node.lineno]
        if not any(_BEGIN.match(line) for line in body):
            raise ConfigError(f"{name}() has no '# BEGIN SOLUTION' region, so generating the exercises would "
                              "publish its body", f"{where}:{node.lineno}")


def render_exercises(solutions: Path, renderer: Renderer,
                     functions: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Every exercise file (name -> text) generated from the ``.py`` files of ``solutions``.

    ``functions`` maps a module to the functions students write in it; each
    must have a marked solution region.
    """
    files = sorted(solutions.glob("*.py"))
    if not files:
        raise ConfigError(f"{solutions}: no .py files to generate exercises from")
    out = {}
    for path in files:
        try:
            text = read_text(path)
        except NotText as exc:
            raise ConfigError(str(exc), f"{path}:{exc.line}") from None
        out[path.name] = stub_source(text, str(path), renderer)
        check_regions(text, str(path), (functions or {}).get(path.stem, ()))
    missing = sorted(set(functions or {}) - {path.stem for path in files})
    if missing:
        raise ConfigError(f"{solutions}: no {missing[0]}.py, which the assignment lists")
    return out
