"""The house's plan holds (issue 21): the floors in pyproject.toml's import-linter contract, and no import
cycle anywhere in gatelab, lazy imports (inside functions) included."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from conftest import ROOT


def test_each_floor_imports_only_from_floors_below():
    """import-linter's own command on pyproject.toml's contract (entry points, front-ends, authoring, grading,
    quiz and course data, reports, base)."""
    command = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(command), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def _cycles(graph: grimp.ImportGraph, leave_out: frozenset[str] = frozenset()) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative), with the
    modules ``leave_out`` taken out of the graph."""

    def imported_by(module: str) -> list[str]:
        return sorted(graph.find_modules_directly_imported_by(module) - leave_out)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules - leave_out):
        if root in index:
            continue
        work = [(root, iter(imported_by(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(imported_by(step))))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_anywhere():
    """Every import counts, eager or lazy: a module never reaches itself. The package's front door
    (``gatelab/__init__.py``, whose ``check`` and ``load_ipython_extension`` reach ``checking`` and ``magic``)
    is left out of the graph: every submodule's import passes through it by Python's rules, not by choice."""
    graph = grimp.build_graph("gatelab", cache_dir=None)
    assert len(graph.modules) > 80
    assert _cycles(graph, leave_out=frozenset({"gatelab"})) == []


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: two modules importing each other are one cycle."""
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert _cycles(graph) == [["a.b", "a.c"]]
