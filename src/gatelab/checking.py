"""``grade check`` as a function: grade a student's own work and keep the result, to show as text or as HTML.

The ``grade check`` command, ``gatelab.check`` (a notebook cell, a script) and
the ``%grade`` magic all call :func:`check`, so they find the same folders and
give the same feedback. Student code runs only in the grading pipeline's
worker subprocess, which imports the submission afresh on every check: an
edited exercise file needs no restart or autoreload.

Nothing heavy is imported here at module level: ``import gatelab`` stays light.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from gatelab.report.render import Renderer
    from gatelab.report.results import Results, TestResult

HTML_TEMPLATE = "check.html.j2"


def quiz_mode(assignment: Any, locked: bool) -> str:
    """The locked bank when asked, or when the full bank is not there (a student's copy)."""
    return "locked" if locked or not (assignment.grader / "quiz").is_dir() else "full"


class CheckResult:
    """What a check found: the score, every test, and the report as ``grade check`` prints it or as HTML.

    ``str()`` and ``repr()`` give the terminal report without colours; a
    notebook shows ``_repr_html_``, the same report as a table.
    """

    def __init__(self, results: Results, renderer: Renderer, *, verbose: bool = False,
                 unchanged: frozenset[str] = frozenset()) -> None:
        self.results = results
        self.renderer = renderer
        self.verbose = verbose
        self.unchanged = unchanged  # questions whose mark and feedback are those of the last check

    @property
    def score(self) -> float:
        return self.results.score

    @property
    def max_score(self) -> float:
        return self.results.max_score

    @property
    def tests(self) -> list[TestResult]:
        """Every test that ran, in grading order (name, function, score, max_score, status, feedback, ...)."""
        return self.results.tests

    @property
    def full_marks(self) -> bool:
        return self.results.full_marks

    def text(self, *, styled: bool = False) -> str:
        """The report ``grade check`` prints; ``styled`` keeps the ANSI colours (click strips them off a tty)."""
        import click

        from gatelab.report.exporters import terminal

        report = terminal.render(self.results, self.renderer, verbose=self.verbose, unchanged=self.unchanged)
        return report if styled else click.unstyle(report)

    def html(self) -> str:
        """The report as an HTML fragment; every text the student's code could have shaped is escaped."""
        from gatelab.report.exporters import terminal

        rows = terminal.function_rows(self.results, self.verbose, self.unchanged)
        return self.renderer.render(HTML_TEMPLATE, results=self.results, rows=rows, verbose=self.verbose,
                                    number=terminal.number)

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()


def check(target: str | None = None, submission: str | Path | None = None, *, assignment: str | Path | None = None,
          include_hidden: bool = False, locked: bool = False, student: str | None = None,
          verbose: bool = False, warm: Callable[[Any], Any] | None = None) -> CheckResult:
    """Grade ``submission`` (default: the exercises of the assignment found from the current folder), as ``grade
    check`` does.

    ``target`` narrows the run as the command's TARGET does: a module, a
    ``module.function``, ``quiz`` or ``quiz.<id>``. ``assignment`` is the folder
    holding ``grader/config.yaml`` (default: the nearest one at or above the
    current folder). Raises a ``GatelabError`` (with a message that says what
    and where) for an unknown target, a missing folder or a broken assignment.
    ``warm`` (the check server's) gives what it keeps warm for an assignment.
    """
    from gatelab.course import config
    from gatelab.grading.run import Request, grade

    spec = config.load(Path(assignment) if assignment else config.find_root(Path.cwd()))
    kept = warm(spec) if warm else None
    from gatelab.report import render
    renderer = kept.renderer if kept else render.for_assignment(spec.grader)
    request = Request(target=target, include_hidden=include_hidden, quiz=quiz_mode(spec, locked), student=student)
    results = grade(spec, Path(submission) if submission else spec.exercises, request, renderer=renderer, warm=kept)
    return CheckResult(results, renderer, verbose=verbose, unchanged=_since_last_check(results))


def _since_last_check(results: Results) -> frozenset[str]:
    """The questions this check marks as the last one in the same folder did; this check is kept for the next."""
    from gatelab.report import seen
    from gatelab.report.results import Kind

    questions = [t for t in results.tests if t.kind is Kind.QUESTION
                 and t.mark not in ("unanswered", "unreadable", "answered")]  # answered: marked only at grading
    folder = Path(results.submission)
    unchanged = frozenset(seen.unchanged(folder, questions))
    seen.remember(folder, questions)
    return unchanged
