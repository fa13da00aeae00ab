"""``grade check --watch``: regrade what a save changed, and show only the feedback that changed.

The watching process keeps the trusted side loaded between runs: the
assignment, the renderer, the oracle (reference and mistake catalog) and a
sandbox whose worker has already started (interpreter and numpy loaded) but
has run none of the student's code. On a save the files are staged as they
are now and that worker imports them: the student's code still runs only in
a fresh worker, never in this process. After each regrade the next worker is
started, ready for the next save.

What a save regrades: a change to module M regrades M and every module whose
file imports M, directly or through other files of the submission (modules
import each other by plain name); ``answers.yaml`` regrades the quiz. A file
that cannot be parsed, or that imports dynamically, counts as importing
everything, so the rule never leaves a module that could have changed
ungraded.
"""
from __future__ import annotations

import ast
import functools
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterable, Iterator

from gatelab.errors import GatelabError, UsageError
from gatelab.grading import target as targets
from gatelab.report import console
from gatelab.report.results import QUIZ

if TYPE_CHECKING:
    from gatelab.course.config import Assignment
    from gatelab.grading.run import Request
    from gatelab.grading.sandbox import Sandbox
    from gatelab.report.render import Renderer
    from gatelab.report.results import Results, TestResult

ANSWERS = "answers.yaml"
TEMPLATE = "watch.j2"
INSTALL_HINT = ('grade check --watch needs the watchfiles package: pip install "gatelab[watch]" '
                "(or pip install watchfiles)")
STEP_MS = 20  # a save is taken once its files have been quiet this long (editors write in several steps)
EVERYTHING = None  # what a file imports when it cannot be told (unparseable, dynamic imports)


@functools.lru_cache(maxsize=1024)
def imports_of(source: str) -> frozenset[str] | None:
    """The top-level module names ``source`` imports, or None when that cannot be told from the text (kept
    by text: a save re-reads every file, and parses only the ones that changed)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return EVERYTHING
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):  # relative: a package of the submission imports its siblings
            return EVERYTHING
        elif isinstance(node, ast.Name) and node.id in ("__import__", "importlib"):
            return EVERYTHING
    return frozenset(names)


def module_of(path: Path, folder: Path) -> str | None:
    """The top-level module a changed file belongs to (``m`` for m.py, ``pkg`` for pkg/x.py), if any."""
    try:
        relative = path.resolve().relative_to(folder.resolve())
    except ValueError:
        return None
    if path.suffix != ".py" or any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
        return None
    return relative.parts[0].removesuffix(".py")


def import_graph(folder: Path) -> dict[str, set[str] | None]:
    """Each top-level module of the submission and what its files import (None: anything); symbolic links
    are not followed (rglob does not descend into linked folders)."""
    graph: dict[str, set[str] | None] = {}
    for path in sorted(folder.rglob("*.py")):
        module = module_of(path, folder)
        if module is None or path.is_symlink():  # never read through a link: grading leaves links out too
            continue
        try:
            found = imports_of(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            found = EVERYTHING
        known = graph.get(module, set())
        graph[module] = None if found is None or known is None else known | found
    return graph


def affected(graph: dict[str, set[str] | None], changed: Iterable[str]) -> set[str]:
    """``changed`` and every module that imports one of them, directly or through others."""
    result = set(changed)
    grew = bool(result)
    while grew:
        grew = False
        for module, imports in graph.items():
            if module not in result and (imports is None or imports & result):
                result.add(module)
                grew = True
    return result


def _row_key(row: dict[str, Any]) -> str:
    return row["qualname"] if row["qualname"] != QUIZ else f"{QUIZ}: {row['name']}"


def _row_signature(row: dict[str, Any]) -> tuple[Any, ...]:
    shown = tuple((t.name, t.feedback, t.output) for t in row["shown"])
    return (row["score"], row["max_score"], row["passed"], shown, tuple(row["also"]), tuple(row["unjudged"]),
            row["note"], row["printed"], row["remark"])


class Shown:
    """The results a watch shows, and what changed since they were shown: a regrade's tests merged in the
    first run's order, the rows whose feedback differs, the notices not shown yet."""

    def __init__(self, results: Results, verbose: bool) -> None:
        self.results = results
        self.verbose = verbose
        self._shown: dict[str, tuple[Any, ...]] = {}
        self._notes: set[str] = set()
        self._remember()

    def merge(self, fresh: Results, target: str | None, quiz: str, modules: Collection[str] = ()) -> None:
        """Put ``fresh``'s tests in place of the ones it regraded, keeping the order of the first run. A run of
        the whole code for a change to ``modules`` (and what imports them) regrades those modules only: the
        others, whose files and imports did not change, keep their results (one pytest run costs less than one
        per module, so the whole code runs, and only what the change can reach is taken)."""
        def regraded(test: TestResult) -> bool:
            module = test.function.split(".")[0]
            if target is None:
                return (module in modules if modules else module != QUIZ) if quiz == "none" else True
            return targets.Target(target).selects(test.function)

        tests = self.results.tests
        if target is None and quiz == "none" and modules:
            taken = {t.name: t for t in fresh.tests if regraded(t)}
            self.results.tests = [taken.pop(t.name, t) if regraded(t) else t for t in tests] + list(taken.values())
        else:
            first = next((n for n, t in enumerate(tests) if regraded(t)), len(tests))
            kept = [t for t in tests if not regraded(t)]
            self.results.tests = kept[:first] + fresh.tests + kept[first:]
        self.results.notices = fresh.notices if quiz != "none" or not target else self.results.notices
        self.results.instructor_notes.extend(n for n in fresh.instructor_notes
                                             if n not in self.results.instructor_notes)
        self.results.faults.extend(fresh.faults)

    def _rows(self) -> list[dict[str, Any]]:
        from gatelab.report.exporters import terminal

        return terminal.function_rows(self.results, self.verbose)

    def _remember(self) -> None:
        self._shown = {_row_key(row): _row_signature(row) for row in self._rows()}

    def changed_rows(self) -> list[dict[str, Any]]:
        """The rows whose feedback differs from what was shown last; from now on, they are what was shown."""
        rows = [row for row in self._rows() if self._shown.get(_row_key(row)) != _row_signature(row)]
        self._remember()
        return rows

    def new_notices(self) -> list[str]:
        """The notices not shown yet; from now on, shown."""
        notices = [n for n in self.results.notices if n not in self._notes]
        self._notes.update(self.results.notices)
        return notices

    def score_line(self) -> str:
        """The last score, for when watching stops."""
        from gatelab.report.exporters import terminal

        return f"Score: {terminal.number(self.results.score)}/{terminal.number(self.results.max_score)}"


class Watcher:
    """A resident ``grade check``: the trusted side loaded once, a fresh worker ready, the last feedback shown."""

    def __init__(self, spec: Assignment, submission: Path, renderer: Renderer, request: Request | None = None,
                 verbose: bool = False) -> None:
        from gatelab.grading.run import Request
        from gatelab.grading.submission import locate
        from gatelab.grading.target import Target

        self.request = request or Request(include_hidden=False)
        Target.parse(spec, self.request.target)
        self.spec, self.renderer = spec, renderer
        self.folder, _ = locate(submission)
        self.verbose = verbose
        self.shown: Shown | None = None
        self._warm: Any = None  # run.Warm: the trusted side, the pytest session and the worker template
        self._ready: Sandbox | None = None

    # The runs.
    def first(self) -> str:
        """Grade everything in scope once (as ``grade check`` does) and return the full report."""
        from gatelab.grading import run
        from gatelab.report.exporters import terminal

        self._warm = run.Warm.start(self.spec, self.renderer)  # right answers computed once, tests collected once
        results = self._grade(self.request.target, self.request.quiz, self._start_sandbox())
        if not self.request.include_hidden:  # with --all, grade() has told them
            results.instructor_notes.extend(self._warm.notes)
        self.shown = Shown(results, self.verbose)
        self._ready = self._start_sandbox()
        return terminal.render(results, self.renderer, verbose=self.verbose)

    @property
    def results(self) -> Results | None:
        """What the watch shows now (None before the first check ended)."""
        return self.shown.results if self.shown is not None else None

    def regrade(self, paths: Iterable[Path]) -> str:
        """Regrade what a change to ``paths`` can have changed; the report of the rows whose feedback changed."""
        started = time.perf_counter()
        paths = sorted(set(paths))
        changed_modules = {m for m in (module_of(p, self.folder) for p in paths) if m}
        modules = affected(import_graph(self.folder), changed_modules) & set(self.spec.contract.modules)
        answers = any(p.name == ANSWERS and p.parent.resolve() == self.folder.resolve() for p in paths)
        runs = self._runs(modules, answers)
        errors: list[str] = []
        for target, quiz, needs_worker in runs:
            try:
                fresh = self._grade(target, quiz, self._take_sandbox() if needs_worker else None)
            except GatelabError as exc:  # a folder that vanished mid-save, a broken assignment: say so, go on
                errors.append(str(exc))
                continue
            assert self.shown is not None
            self.shown.merge(fresh, target, quiz, modules)
        rows = self.shown.changed_rows() if self.shown is not None else []
        labels = [target or self._label(changed_modules, modules) for target, _, _ in runs]
        return self._render(paths, labels, rows, errors, time.perf_counter() - started)

    def _label(self, changed: set[str], modules: set[str]) -> str:
        """The modules a run of the whole code regraded, said as what changed and what imports it
        ("base and the modules that import it: cells, fitting")."""
        order = [m for m in self.spec.contract.modules if m in modules]
        saved = [m for m in order if m in changed]
        others = [m for m in order if m not in changed]
        if not others:
            return ", ".join(saved)
        files = sorted(changed)
        subject = " and ".join(saved) if saved else ", ".join(files)
        pronoun = "it" if len(saved or files) == 1 else "them"
        lead = f"{subject} and the modules that import {pronoun}" if saved else f"the modules that import {subject}"
        return f"{lead}: {', '.join(others)}"

    def _render(self, paths: list[Path], regraded: list[str], rows: list[dict[str, Any]],
                errors: list[str], seconds: float) -> str:
        import click

        from gatelab.report.exporters import terminal

        assert self.shown is not None
        notices = self.shown.new_notices()
        names = [str(p.resolve().relative_to(self.folder.resolve())) if p.resolve().is_relative_to(
            self.folder.resolve()) else str(p) for p in paths]
        return self.renderer.terminal(TEMPLATE, style=click.style, clock=time.strftime("%H:%M:%S"), files=names,
                                      regraded=regraded, seconds=seconds, rows=rows, notices=notices,
                                      errors=errors, results=self.shown.results, marks=console.marks(sys.stdout),
                                      verbose=self.verbose, number=terminal.number)

    def close(self) -> None:
        """Stop the worker kept ready, the session and the template."""
        if self._ready is not None:
            self._ready.close()
            self._ready = None
        if self._warm is not None:
            self._warm.close()
            self._warm = None

    # What to grade.
    def _runs(self, modules: set[str], answers: bool) -> list[tuple[str | None, str, bool]]:
        """(target, quiz mode, needs a worker) for each grading run a change calls for, within the scope."""
        runs: list[tuple[str | None, str, bool]] = []
        scope = targets.Target(self.request.target).scope
        if modules and scope != QUIZ and (scope is None or scope in modules):
            if self.request.target or len(modules) == 1:
                runs.append((self.request.target or next(iter(modules)), "none", True))
            else:  # several modules: one run of the whole code costs less than one pytest run per module
                runs.append((None, "none", True))
        if answers and self.request.quiz != "none" and scope in (None, QUIZ):
            runs.append((self.request.target if scope == QUIZ else QUIZ, self.request.quiz, False))
        return runs

    def _grade(self, target: str | None, quiz: str, sandbox: Sandbox | None) -> Results:
        from gatelab.grading.run import grade

        try:
            return grade(self.spec, self.folder, replace(self.request, target=target, quiz=quiz),
                         renderer=self.renderer, warm=self._warm, sandbox=sandbox)
        finally:
            if sandbox is not None:
                sandbox.close()

    def _start_sandbox(self) -> Sandbox:
        """A sandbox on the submission whose workers start now and wait, having imported none of it."""
        from gatelab.grading.run import call_limits, forbidden
        from gatelab.grading.sandbox import HIDDEN, PUBLIC, Sandbox

        sandbox = Sandbox(self.folder, call_limits(self.spec, self.request.include_hidden), forbid=forbidden(self.spec),
                          template=self._warm.template if self._warm else None)
        sandbox.start(PUBLIC)
        if self.request.include_hidden:
            sandbox.start(HIDDEN)
        return sandbox

    def _take_sandbox(self) -> Sandbox:
        """The ready sandbox, restaged with the files as they are now; the next one starts after this run."""
        sandbox, self._ready = self._ready or self._start_sandbox(), None
        sandbox.restage()
        return sandbox

    def prepare(self) -> None:
        """Start the worker for the next save, if none is waiting."""
        if self._ready is None:
            self._ready = self._start_sandbox()

def watched(folder: Path) -> Callable[[Any, str], bool]:
    """The filter of changes worth a regrade: Python files of the submission and its answers.yaml."""
    root = folder.resolve()

    def wanted(_change: Any, path: str) -> bool:
        changed = Path(path)
        return module_of(changed, root) is not None or (changed.name == ANSWERS and changed.parent == root)

    return wanted


def require_watcher() -> Any:
    """The watchfiles module, or a UsageError that says how to install it."""
    try:
        import watchfiles
    except ImportError as exc:
        raise UsageError(INSTALL_HINT) from exc
    return watchfiles


def changes(folder: Path) -> Iterator[set[Path]]:
    """The files changed by each save, until Ctrl-C."""
    for batch in require_watcher().watch(folder, watch_filter=watched(folder), step=STEP_MS, raise_interrupt=True):
        yield {Path(path) for _, path in batch}


def _ctrl_c_stops() -> None:
    """Make Ctrl-C raise KeyboardInterrupt here, whatever this process was handed: a parent (an IDE, a test
    runner's worker) may pass SIGINT down ignored or blocked, and then nothing would stop the watch."""
    import signal

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def watch(spec: Assignment, submission: Path, renderer: Renderer, echo: Callable[[str], None],
          request: Request | None = None, verbose: bool = False) -> Results | None:
    """Show the full check, then the changed feedback after every save, until Ctrl-C; the last results (None
    when stopped before the first check ended)."""
    require_watcher()
    _ctrl_c_stops()
    watcher = Watcher(spec, submission, renderer, request, verbose)
    try:
        echo(watcher.first())
        echo(f"Watching {watcher.folder} for changes (Ctrl-C to stop).\n")
        for paths in changes(watcher.folder):
            echo(watcher.regrade(paths))
            watcher.prepare()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.close()
    if watcher.shown is not None:
        echo(f"\nStopped watching. {watcher.shown.score_line()}\n")
    return watcher.results
