"""The ``grade`` command line: parse, call one function, report, exit with a meaningful code."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from gatelab import __version__
from gatelab.errors import EXIT_NOT_FULL_MARKS, EXIT_OK, GatelabError, GraderFault

EXIT_CODES = """\b
Exit codes:
  0  grading completed (whatever the score)
  1  --strict and not full marks; audit found a hole; generate --check found stale exercises
  2  usage error: unknown command, option, target or folder
  3  the assignment is broken (grader/config.yaml, solutions/, grader tests)
  4  the grader itself failed on a test (a bug to report)"""


def _assignment(path: Path | None) -> Any:
    from gatelab import config

    return config.load(path if path else config.find_root(Path.cwd()))


def _run(action: Callable[[], int]) -> None:
    """Run a command body; a GatelabError becomes its message on stderr and its exit code.

    Anything else is a bug in gatelab: one line and exit 4, the traceback only
    with GATELAB_DEBUG=1, so a student never reads a grader traceback.
    """
    try:
        code = action()
    except GatelabError as exc:
        click.secho(f"grade: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("GATELAB_DEBUG"):
            raise
        click.secho(f"grade: internal error ({type(exc).__name__}: {exc}); this is a bug in gatelab, "
                    "not in your work. Rerun with GATELAB_DEBUG=1 for details and report it.", fg="red", err=True)
        sys.exit(GraderFault.exit_code)
    sys.exit(code)


assignment_option = click.option(
    "--assignment", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Assignment folder (holding grader/config.yaml). Default: the nearest one above the current folder.")


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gatelab")
def main() -> None:
    """gatelab: implement RNN, LSTM and GRU cells and get graded with feedback that names the mistake."""


@main.command(epilog=EXIT_CODES)
@click.argument("target", required=False)
@click.option("--submission", type=click.Path(path_type=Path), default=None,
              help="Folder with your exercise files. Default: the assignment's exercises/.")
@assignment_option
@click.option("--all", "include_hidden", is_flag=True, help="Run hidden tests too (instructors).")
@click.option("--verbose", "-v", is_flag=True, help="Show the feedback of every failing test, not one per function.")
@click.option("--strict", is_flag=True, help="Exit 1 unless every test passes (for CI).")
def check(target: str | None, submission: Path | None, assignment: Path | None, include_hidden: bool,
          verbose: bool, strict: bool) -> None:
    """Grade your exercises and explain what is wrong.

    TARGET narrows the run to a module (lstm) or a function (lstm.forget_gate).
    """

    def action() -> int:
        from gatelab import grading
        from gatelab.exporters import terminal
        from gatelab.render import Renderer

        spec = _assignment(assignment)
        results = grading.grade(spec, submission or spec.exercises, target=target, include_hidden=include_hidden)
        click.echo(terminal.render(results, Renderer(spec.grader / "templates"), verbose=verbose), nl=False)
        if results.grader_errors:
            return GraderFault.exit_code
        return EXIT_NOT_FULL_MARKS if strict and not results.full_marks else EXIT_OK

    _run(action)


FORMATS = ("gradescope", "json")


@main.command(epilog=EXIT_CODES)
@click.option("--submission", type=click.Path(path_type=Path), required=True, help="Folder to grade.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="gradescope", show_default=True,
              help="Results format.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write. Default: standard output.")
@assignment_option
def autograde(submission: Path, fmt: str, output: Path | None, assignment: Path | None) -> None:
    """Grade a submission with every test (hidden ones included) and write machine-readable results.

    A results file is written even when grading fails, saying why, so an LMS
    never sees a missing or broken file.
    """

    def action() -> int:
        from gatelab import grading
        from gatelab.exporters import gradescope, json as json_exporter

        exporter = {"gradescope": gradescope, "json": json_exporter}[fmt]
        try:
            results = grading.grade(_assignment(assignment), submission, include_hidden=True)
        except GatelabError as exc:
            _write(exporter.failure(str(exc)), output)
            raise
        _write(exporter.render(results), output)
        if output:
            click.echo(f"{results.score:g}/{results.max_score:g} written to {output}", err=True)
        return GraderFault.exit_code if results.grader_errors else EXIT_OK

    _run(action)


def _write(document: dict[str, Any], output: Path | None) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@main.command(epilog=EXIT_CODES)
@assignment_option
def audit(assignment: Path | None) -> None:
    """Check the grader itself (instructors, CI); exit 1 on any hole.

    The reference must get full marks and the stubs zero; every mistake in
    grader/mistakes must be caught by a test of its function and named in
    the feedback; two runs with one seed must agree.
    """

    def action() -> int:
        from gatelab import audit as auditing, catalog

        spec = _assignment(assignment)
        steps = 3 + len(catalog.load(spec.grader / "mistakes").mistakes)
        with click.progressbar(length=steps, label="auditing", file=sys.stderr) as bar:
            rows = auditing.run(spec, on_step=lambda _name: bar.update(1))
        click.echo(auditing.render(spec, rows, click.style), nl=False)
        return EXIT_NOT_FULL_MARKS if any(not row.ok for row in rows) else EXIT_OK

    _run(action)


@main.command(epilog=EXIT_CODES)
@assignment_option
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 if exercises/ is out of date with solutions/.")
def generate(assignment: Path | None, check_only: bool) -> None:
    """Generate the student exercises (stubs) from the reference solutions."""

    def action() -> int:
        from gatelab import stubs
        from gatelab.render import Renderer

        spec = _assignment(assignment)
        renderer = Renderer(spec.grader / "templates")
        if check_only:
            stale = stubs.out_of_sync(spec.solutions, spec.exercises, renderer)
            for name in stale:
                click.echo(f"{spec.exercises / name}: out of date; run `grade generate`")
            return EXIT_NOT_FULL_MARKS if stale else EXIT_OK
        changed = stubs.write_exercises(spec.solutions, spec.exercises, renderer)
        click.echo(f"{len(changed)} exercise file(s) written to {spec.exercises}" if changed
                   else f"{spec.exercises} is up to date")
        return EXIT_OK

    _run(action)
