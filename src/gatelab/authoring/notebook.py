"""The student's notebook: checking the exercises from Jupyter, written into the student release.

Its cells come from ``notebook.py.j2`` (replaceable in ``grader/templates``),
a script in the percent format that editors know: a ``# %%`` line starts a
code cell, ``# %% [markdown]`` a markdown cell whose lines start with ``# ``.
Here it becomes a Jupyter notebook (nbformat 4.5 JSON) with no outputs and
stable cell ids, so the same assignment gives the same file (the release's
zips are reproducible). The course is not named here: the template gets the
contract's modules and shows the first one.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gatelab.course.config import Assignment
from gatelab.quiz.lock import LOCK_NAME
from gatelab.report.render import Renderer

NOTEBOOK_NAME = "check.ipynb"
TEMPLATE = "notebook.py.j2"
_CELL = re.compile(r"^# %%(?P<markdown> \[markdown\])?[ \t]*$", re.M)
_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def cells(script: str) -> list[dict[str, Any]]:
    """The cells of a percent-format script: markdown cells lose their ``# ``, empty cells are dropped."""
    found: list[dict[str, Any]] = []
    marks = list(_CELL.finditer(script))
    for number, mark in enumerate(marks):
        end = marks[number + 1].start() if number + 1 < len(marks) else len(script)
        lines = script[mark.end():end].strip("\n").splitlines()
        if mark["markdown"]:
            lines = [re.sub(r"^# ?", "", line) for line in lines]
        text = "\n".join(lines).strip("\n")
        if text:
            found.append(_cell("markdown" if mark["markdown"] else "code", text, len(found) + 1))
    return found


def _cell(kind: str, text: str, number: int) -> dict[str, Any]:
    lines = text.splitlines(keepends=True)
    cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{number}", "metadata": {}, "source": lines}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook(script: str) -> str:
    """A percent-format script as a notebook's JSON text."""
    document = {"cells": cells(script), "metadata": _METADATA, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def write(assignment: Assignment, folder: Path, wheel: str, renderer: Renderer) -> Path:
    """Write ``check.ipynb`` into the student's ``folder`` (which already holds its ``exercises/``)."""
    modules = assignment.contract.modules
    example = modules[0]
    script = renderer.render(TEMPLATE, title=assignment.title, modules=modules, example=example,
                             function=assignment.contract.functions_of(example)[0].name, wheel=wheel,
                             has_quiz=(folder / "exercises" / LOCK_NAME).is_file())
    path = folder / NOTEBOOK_NAME
    path.write_text(notebook(script), encoding="utf-8")
    return path
