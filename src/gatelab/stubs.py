"""Student stubs from reference solutions: ``solutions/`` -> ``exercises/``.

A reference function body sits between two plain comments::

    # BEGIN SOLUTION (hint: stack h_prev above x_t, then apply sigmoid)
    ...
    # END SOLUTION

In the exercise, the marked lines become ``stub.j2``: a TODO with the hint
and ``raise NotImplementedError(hint)``. Everything else (imports,
docstrings with the equation and shapes) is kept as it is.
"""
from __future__ import annotations

import re
from pathlib import Path

from gatelab.errors import ConfigError
from gatelab.render import Renderer

_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?:\s*\(hint:\s*(?P<hint>.*)\))?\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")
DEFAULT_HINT = "replace this line with your implementation"


def stub_source(text: str, where: str, renderer: Renderer) -> str:
    """``text`` with every marked solution region replaced by a stub."""
    out: list[str] = []
    begin: tuple[int, re.Match[str]] | None = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        start, end = _BEGIN.match(line), _END.match(line)
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


def render_exercises(solutions: Path, renderer: Renderer) -> dict[str, str]:
    """Every exercise file (name -> text) generated from the ``.py`` files of ``solutions``."""
    files = sorted(solutions.glob("*.py"))
    if not files:
        raise ConfigError(f"{solutions}: no .py files to generate exercises from")
    return {path.name: stub_source(path.read_text(encoding="utf-8"), str(path), renderer) for path in files}
