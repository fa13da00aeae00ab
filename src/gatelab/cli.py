"""The ``grade`` command line: parse, call one function, report, exit with a meaningful code."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from gatelab.checking import quiz_mode
from gatelab.errors import EXIT_NOT_FULL_MARKS, EXIT_OK, GatelabError, GraderFault
from gatelab.version import __version__

EXIT_CODES = """\b
Exit codes:
  0  grading completed (whatever the score)
  1  --strict and not full marks; audit found a hole; generate --check found stale exercises;
     batch: a submission not matched to the roster, or not told apart (--allow-unmatched to accept)
  2  usage error: unknown command, option, target or folder
  3  the assignment is broken (grader/config.yaml, solutions/, grader tests)
  4  the grader itself failed on a test (a bug to report)
  5  graded, but part of the assignment failed while grading (a question, a
     catalog file or formula): the results keep the full maximum, and the
     notes for the instructor say what failed
  6  refused (autograde, batch): the kernel's wall around student code cannot
     be built here; --isolation weak grades behind what the machine has"""


def _assignment(path: Path | None) -> Any:
    from gatelab.course import config

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


student_option = click.option(
    "--student", default=None, metavar="ID",
    help="Student id that picks the question variants. Default: `student:` in answers.yaml, else your login name.")


assignment_option = click.option(
    "--assignment", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Assignment folder (holding grader/config.yaml). Default: the nearest one above the current folder.")


def _set_isolation(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        os.environ["GATELAB_ISOLATION"] = value  # read by grading here and in a batch's processes
    return value


isolation_option = click.option(
    "--isolation", type=click.Choice(["strict", "weak"]), default=None, expose_value=False, callback=_set_isolation,
    help="strict (default, or the config's isolation:): refuse to grade where the kernel's wall around student "
         "code (Landlock, seccomp, a user per submission) cannot be built. weak: grade behind what this machine has.")


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gatelab")
def main() -> None:
    """gatelab: implement the functions of an assignment and get graded with feedback that names the mistake."""
    from gatelab.report import console

    console.prepare(sys.stdout, sys.stderr)  # a console that lacks a character gets its spelling, not an error


@main.command(epilog=EXIT_CODES)
@click.argument("target", required=False)
@click.option("--submission", type=click.Path(path_type=Path), default=None,
              help="Folder with your exercise files. Default: the assignment's exercises/.")
@assignment_option
@click.option("--all", "include_hidden", is_flag=True, help="Run hidden tests too (instructors).")
@click.option("--verbose", "-v", is_flag=True, help="Show the feedback of every failing test, not one per function.")
@click.option("--strict", is_flag=True, help="Exit 1 unless every test passes (for CI).")
@click.option("--locked", is_flag=True,
              help="Mark the quiz with the locked bank, as on a student's machine "
                   "(default when grader/quiz is absent).")
@click.option("--watch", is_flag=True,
              help="Keep watching: after each save, regrade what changed and show only the feedback that changed, "
                   'until Ctrl-C (needs pip install "gatelab[watch]").')
@student_option
def check(target: str | None, submission: Path | None, assignment: Path | None, include_hidden: bool,
          verbose: bool, strict: bool, locked: bool, student: str | None, watch: bool) -> None:
    """Grade your exercises and quiz answers, and explain what is wrong.

    TARGET narrows the run to a module (module), a function (module.function),
    the quiz (quiz) or one question (quiz.<id>).
    """

    def action() -> int:
        from gatelab import checking

        if watch:
            return _watch(target, submission, assignment, include_hidden, verbose, strict, locked, student)
        warm = (click.get_current_context().obj or {}).get("warm")  # the check server's, when it runs this
        checked = checking.check(target, submission, assignment=assignment, include_hidden=include_hidden,
                                 locked=locked, student=student, verbose=verbose, warm=warm)
        click.echo(checked.text(styled=True), nl=False)
        return checked.results.exit_code(strict)

    _run(action)


def _watch(target: str | None, submission: Path | None, assignment: Path | None, include_hidden: bool,
           verbose: bool, strict: bool, locked: bool, student: str | None) -> int:
    """``grade check --watch``: the check, then the changed feedback after each save, until Ctrl-C."""
    from gatelab import watching

    spec = _assignment(assignment)
    from gatelab.grading.run import Request
    from gatelab.report import render

    request = Request(target=target, include_hidden=include_hidden, quiz=quiz_mode(spec, locked), student=student)
    results = watching.watch(spec, submission or spec.exercises, render.for_assignment(spec.grader),
                             lambda text: click.echo(text, nl=False), request, verbose=verbose)
    return results.exit_code(strict) if results is not None else EXIT_OK


@main.command("server")
@click.argument("action", type=click.Choice(["status", "stop"]))
def server_command(action: str) -> None:
    """The check server that answers `grade check` from a warm process (see GATELAB_SERVER in docs/student.md)."""

    def act() -> int:
        from gatelab import server

        if action == "stop":
            click.echo("Stopped the check server." if server.stop() else "No check server is running.")
            return EXIT_OK
        state = server.status()
        kept = ", ".join(state["assignments"]) if state else ""
        click.echo(f"A check server runs (pid {state['pid']}), {state['checks']} checks answered, "
                   f"keeping warm: {kept or 'no assignment yet'}." if state else "No check server is running.")
        return EXIT_OK

    _run(act)


FORMATS = ("gradescope", "json", "junit", "github", "markdown", "prairielearn")


@main.command(epilog=EXIT_CODES)
@click.option("--submission", type=click.Path(path_type=Path), required=True, help="Folder to grade.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="gradescope", show_default=True,
              help="Results format: Gradescope's results.json, gatelab's JSON, JUnit XML (GitLab, Jenkins), "
                   "GitHub Classroom's result, a Markdown job summary, or PrairieLearn's external grader results.json.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write. Default: standard output.")
@click.option("--metadata", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The LMS's submission_metadata.json (Gradescope): its user id picks the quiz variants.")
@isolation_option
@assignment_option
@student_option
def autograde(submission: Path, fmt: str, output: Path | None, metadata: Path | None, assignment: Path | None,
              student: str | None) -> None:
    """Grade a submission with every test (hidden ones included) and write machine-readable results.

    A results file is written even when grading fails, saying why, so an LMS
    never sees a missing or broken file. With --format github and
    $GITHUB_OUTPUT set, the step output `result` gets the base64 text
    GitHub Classroom's reporter reads (bounded, well under the runner's
    limit), and with $GITHUB_STEP_SUMMARY set the job summary gets the
    full feedback in Markdown.
    """

    def action() -> int:
        from gatelab.grading.run import Request, grade
        from gatelab.grading.submission import Context, read_metadata
        from gatelab.report.exporters import markdown

        exporter = _exporter(fmt)
        context = read_metadata(metadata) if metadata else Context()
        try:
            results = grade(_assignment(assignment), submission,
                            Request(include_hidden=True, student=student, for_lms=True, context=context))
        except GatelabError as exc:
            reason = str(exc)
            _write(exporter.failure(reason), output, fmt)
            _step_summary(fmt, lambda: markdown.failure(reason))
            raise
        _write(exporter.render(results), output, fmt)
        _step_summary(fmt, lambda: markdown.render(results))
        if output:
            click.echo(f"{results.score:g}/{results.max_score:g} written to {output}", err=True)
        click.echo(f"isolation: {results.isolation}", err=True)
        for note in results.faults + results.instructor_notes:  # an LMS shows the autograder's output to staff only
            click.secho(f"note for the instructor: {note}", fg="yellow", err=True)
        return results.exit_code()

    _run(action)


def _exporter(fmt: str) -> Any:
    """The module that writes ``fmt`` (imported only when asked for)."""
    import importlib

    return importlib.import_module(f"gatelab.report.exporters.{fmt}")


def _write(document: dict[str, Any] | str, output: Path | None, fmt: str) -> None:
    """Write a document (JSON for a dict, as it is for text); for GitHub, also the step output it reads."""
    text = document if isinstance(document, str) else json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    step_output = os.environ.get("GITHUB_OUTPUT")
    if fmt == "github" and step_output and isinstance(document, dict):
        from gatelab.report.exporters import github

        with open(step_output, "a", encoding="utf-8") as handle:
            handle.write(f"result={github.encoded(github.reporter(document))}\n")


def _step_summary(fmt: str, summary: Callable[[], str]) -> None:
    """For --format github in a GitHub job: the Markdown report as the job's summary, where the full feedback
    goes (the reporter prints no failing test's message)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and path:
        from gatelab.report.exporters import github

        with open(path, "a", encoding="utf-8") as handle:
            handle.write(github.summary(summary()))
        click.echo("The full feedback is on this run's summary page.", err=True)


@main.command(epilog=EXIT_CODES)
@assignment_option
@click.option("--seeds", default=100, show_default=True, help="Students to render every template for.")
def validate(assignment: Path | None, seeds: int) -> None:
    """Check config.yaml, contract.yaml and the question bank (grader/quiz) against their JSON Schemas (with
    jsonschema installed), then the bank: ids, answers, regexes, templates; exit 1 on a problem."""

    def action() -> int:
        from gatelab.course import config, schemas
        from gatelab.quiz import bank as quiz
        from gatelab.quiz import linting

        root = assignment if assignment else config.find_root(Path.cwd())
        checkable = schemas.available()  # jsonschema is an extra: without it, one line on how to get it
        problems = schemas.check(root / "grader") if checkable else []
        if not checkable:
            click.secho(f"note: {schemas.MISSING}", fg="yellow", err=True)
        for problem in problems:
            click.secho(problem, fg="red")
        spec = _assignment(root)
        bank, quiz_problems = linting.validate(spec.grader / "quiz", seeds=seeds)
        for problem in quiz_problems:
            click.secho(problem, fg="red")
        problems += quiz_problems
        counts = {kind: sum(q.type == kind for q in bank.questions) for kind in quiz.TYPES}
        summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n)
        click.echo(f"{len(bank.questions)} questions ({summary or 'none'}); "
                   f"{len(problems)} problem(s)")
        return EXIT_NOT_FULL_MARKS if problems else EXIT_OK

    _run(action)


@main.command(epilog=EXIT_CODES)
@click.argument("name", type=click.Choice(["config", "contract", "question-bank"]), required=False)  # schemas.NAMES
@click.option("--write", "folder", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write the schemas (all three, or NAME's) into DIR, e.g. grader/schemas, instead of printing.")
def schema(name: str | None, folder: Path | None) -> None:
    """Print the JSON Schema (draft-07) of grader/config.yaml, grader/contract.yaml or a question-bank file.

    Editors check the YAML files as they are typed when a file's first line is
    `# yaml-language-server: $schema=schemas/config.schema.json` (the path from the file to the schema):
    `grade schema --write grader/schemas` puts them there.
    """

    def action() -> int:
        from gatelab.course import schemas
        from gatelab.errors import UsageError

        if folder is not None:
            for path in schemas.write(folder, (name,) if name else schemas.NAMES):
                click.echo(f"wrote {path}")
        elif name is None:
            raise UsageError(f"name a schema ({', '.join(schemas.NAMES)}), or --write DIR for all three")
        else:
            click.echo(schemas.text(name), nl=False)
        return EXIT_OK

    _run(action)


@main.command(epilog=EXIT_CODES)
@click.option("--submission", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder whose answers.yaml to fill in. Default: the assignment's exercises/.")
@assignment_option
@student_option
@click.option("--redo", is_flag=True, help="Ask answered questions again too.")
@click.option("--locked", is_flag=True, help="Use the locked bank, as on a student's machine.")
@click.argument("question", required=False)
def quiz(submission: Path | None, assignment: Path | None, student: str | None, redo: bool, locked: bool,
         question: str | None) -> None:
    """Answer the concept questions in the terminal; answers go to answers.yaml as you give them.

    Resumable: answered questions are skipped unless --redo, or unless you
    name one QUESTION id.
    """

    def action() -> int:
        from gatelab.errors import ConfigError, UsageError, did_you_mean
        from gatelab.quiz import answers as answers_file
        from gatelab.quiz import asking, opening
        from gatelab.report.results import quiz_points

        spec = _assignment(assignment)
        folder = submission or spec.exercises
        opened = opening.open_bank(spec.grader, spec.exercises, quiz_mode(spec, locked) == "locked")
        if opened.problems:  # asking needs every question: the first broken one stops the command, saying where
            raise ConfigError(opened.problems[0])
        bank, marker = opened.bank, opened.marker
        if question and bank.get(question) is None:
            raise UsageError(f"there is no question {question!r}.{did_you_mean(question, bank.ids)}")
        path = folder / answers_file.ANSWERS_NAME
        points = quiz_points(spec.quiz_share, spec.code_points, {q.id: q.points for q in bank.questions})
        from gatelab.report import render
        session = asking.Session(bank, marker, path, student, render.for_assignment(spec.grader),
                                 ask=lambda text: click.prompt(text, default="", show_default=False),
                                 say=click.echo, points=points)
        try:
            session.run(redo=redo, only=question)
        except asking.UnreadableAnswers as exc:
            raise UsageError(str(exc)) from None
        except (click.Abort, EOFError, KeyboardInterrupt):
            click.echo(f"\nStopped; the answers given so far are in {path}.")
        return EXIT_OK

    _run(action)


@main.command(epilog=EXIT_CODES)
@assignment_option
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Mistakes planted and graded at once (default: the number of CPUs).")
def audit(assignment: Path | None, jobs: int | None) -> None:
    """Check the grader itself (instructors, CI); exit 1 on any hole.

    The reference must get full marks and the stubs zero; submissions that do
    no work (constants, random numbers, echoes of the inputs) must get zero;
    every mistake in grader/mistakes must be caught by a public test of its
    function (so a student's check shows it) and named in the feedback; two runs with one seed must agree.
    """

    def action() -> int:
        from gatelab.authoring import audit as auditing

        spec = _assignment(assignment)
        from gatelab.report import render
        renderer = render.for_assignment(spec.grader)
        rows = _audited(spec, renderer, jobs)
        click.echo(auditing.render(spec, renderer, rows, click.style), nl=False)
        return EXIT_NOT_FULL_MARKS if any(not row.ok for row in rows) else EXIT_OK

    _run(action)


def _audited(spec: Any, renderer: Any, jobs: int | None) -> list[Any]:
    """The audit's rows, with a progress bar on stderr."""
    from gatelab.authoring import audit as auditing
    from gatelab.course import catalog

    steps = 3 + len(auditing.NO_WORK) + len(catalog.load(spec.grader / "mistakes", spec.contract).mistakes)
    with click.progressbar(length=steps, label="auditing", file=sys.stderr) as bar:
        return auditing.run(spec, renderer, on_step=lambda _name: bar.update(1), jobs=jobs or os.cpu_count() or 1)


def _engine(scheduler: str | None, root: Path) -> Any:
    """Where `grade batch` grades: here (None: batch.run's process pool), or the Dask cluster at ``scheduler``."""
    import contextlib

    if scheduler is None:
        return contextlib.nullcontext(None)
    from gatelab.grading import distributed

    return distributed.Cluster(scheduler, root)


def _submissions_folder(submissions: Path, out: Path) -> Path:
    """The folder `grade batch` grades: SUBMISSIONS itself, or Canvas's download zip unpacked in OUT/download."""
    from gatelab.errors import UsageError
    from gatelab.grading import canvas

    if submissions.is_dir():
        return submissions
    if submissions.is_file() and submissions.suffix.lower() == ".zip":
        return canvas.unpack_download(submissions, out / "download")
    raise UsageError(f"the submissions folder {submissions} does not exist (give a folder, or the .zip Canvas's "
                     "Download Submissions gives)")


def threshold_option(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(name, "threshold", type=click.FloatRange(0.0, 1.0), default=0.5, show_default=True,
                        help="The similarity score (0 to 1) from which a pair is listed.")


def _similar_pairs(comparison: Any, page: Path) -> str:
    """The line that tells how many pairs a comparison flagged, and where to read them."""
    pairs, close = len(comparison.pairs), len(comparison.close)
    return (f"similarity: {pairs} pair{'s' if pairs != 1 else ''} of {comparison.students} submissions scored "
            f"{comparison.options.threshold:.2f} or more, {close} close to the reference: evidence to read in "
            f"{page}#similarity and {page.parent / 'similarity.csv'}, not a finding")


@main.command(epilog=EXIT_CODES)
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for similarity.csv and similarity.html (a grade batch's --out: its results add the "
                   "uncommon mistakes pairs share).")
@threshold_option("--threshold")
@click.option("--reference-threshold", type=click.FloatRange(0.0, 1.0), default=0.9, show_default=True,
              help="The share of a submission's code (beyond the stubs) that, being the reference's, makes it "
                   "close to the reference.")
@click.option("--shown", type=click.IntRange(min=0), default=25, show_default=True,
              help="Pairs shown on the page with their matching code (similarity.csv has every one).")
@click.option("--jobs", default=2, show_default=True, help="Processes reading and fingerprinting submissions.")
@assignment_option
def similarity(submissions: Path, out: Path, threshold: float, reference_threshold: float, shown: int, jobs: int,
               assignment: Path | None) -> None:
    """Compare a class's submissions, as grade batch finds them in SUBMISSIONS (a folder, or Canvas's
    download): which pairs are more alike than independent work usually is. Names, comments, layout and
    function order do not hide a copy; the stubs and the reference count for nothing; shared uncommon
    mistakes count when OUT holds a grade batch's results. Evidence for a person to read: no grade changes.
    """

    def action() -> int:
        from gatelab.grading import batch as batching
        from gatelab.similarity.compare import Options

        spec = _assignment(assignment)
        folder = _submissions_folder(submissions, out)
        options = Options(threshold=threshold, reference_threshold=reference_threshold, shown=shown)
        comparison = batching.similar(spec, folder, out, options, jobs)
        click.echo(_similar_pairs(comparison, out / "similarity.html"))
        return EXIT_OK

    _run(action)


@main.command(epilog=EXIT_CODES)
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for grades.csv, results/, feedback/, summary.html and the state of this run.")
@click.option("--jobs", default=2, show_default=True, help="Submissions graded at the same time.")
@click.option("--budget", type=float, default=None, help="Seconds per submission (default: limits.budget).")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A Canvas gradebook export: students of a Canvas download take its rows by Canvas ID; "
                   "folders named by SIS User ID, login, ID or name (Last, First or First Last) take theirs.")
@click.option("--allow-unmatched", is_flag=True,
              help="Exit 0 even when a submission is not in the roster or not told apart (still listed).")
@click.option("--column", default=None, help='The grades.csv column, as Canvas names it: "Title (id)". '
                                              "Default: the assignment's title.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786) instead of here "
                   '(--jobs is then the workers\' business; pip install "gatelab[dask]").')
@click.option("--similarity", "compare", is_flag=True,
              help="Compare the class too: pairs more alike than independent work (code beyond the stubs and the "
                   "reference, uncommon mistakes shared) in summary.html and similarity.csv. Grades are untouched.")
@threshold_option("--similarity-threshold")
@isolation_option
@assignment_option
def batch(submissions: Path, out: Path, jobs: int, budget: float | None, roster: Path | None,
          allow_unmatched: bool, column: str | None, scheduler: str | None, assignment: Path | None,
          compare: bool, threshold: float) -> None:
    """Grade a whole class: every subfolder or .zip of SUBMISSIONS is one student, and so are the files of
    each student in Canvas's "Download Submissions" (the folder, or its zip as downloaded).

    Writes OUT/grades.csv (Canvas), OUT/results/<student>.json, OUT/feedback/<student>.md and .html
    (every test, hidden ones included: for you, or to hand back after the due date) and OUT/summary.html.
    Rerunning grades again only the submissions that changed. Submissions not in the roster, or not told
    apart, are listed and exit 1 unless --allow-unmatched.
    """

    def action() -> int:
        from gatelab.grading import batch as batching
        from gatelab.grading import isolation
        from gatelab.report import console, render
        from gatelab.similarity.compare import Options

        spec = _assignment(assignment)
        wall = isolation.require(isolation.policy(spec.isolation))  # before a single submission is graded
        click.echo(f"isolation: {wall.summary()}", err=True)
        folder = _submissions_folder(submissions, out)
        show = sys.stderr.isatty()
        with _engine(scheduler, spec.root) as engine, \
                click.progressbar(length=batching.count(folder), label="grading",
                                  file=sys.stderr if show else open(os.devnull, "w"), show_pos=True) as bar:
            report = batching.grade_class(spec, folder, out, jobs=jobs, budget=budget, roster=roster, column=column,
                                          engine=engine, on_row=lambda _row: bar.update(1),
                                          similarity=Options(threshold=threshold) if compare else None)
        rows, book, late = report.rows, report.book, report.late
        for message in book.unresolved:
            click.echo(f"unresolved: {console.visible(message)}", err=True)  # roster names are the students'
        for student in book.unmatched:
            click.echo(f"unmatched: {console.visible(student)} is not in the roster {roster}: its grades.csv row "
                       "carries its own name and ids, which Canvas's import matches to a student or asks you about",
                       err=True)
        if late:
            click.echo(f"late (Canvas marked LATE): {console.visible(', '.join(late))}", err=True)
        reused = sum(row.reused for row in rows)
        failed = sum(bool(row.error) for row in rows)
        click.echo(f"{len(rows)} submissions ({reused} unchanged since the last run, {failed} not graded); "
                   f"wrote {out / 'grades.csv'} and {out / 'summary.html'}")
        if report.similarity is not None:
            click.echo(_similar_pairs(report.similarity, out / "summary.html"))
        renderer = render.for_assignment(spec.grader)
        click.echo(renderer.terminal("reasons_terminal.j2", style=click.style, explained=report.explained), nl=False)
        if (book.unmatched or book.unresolved) and not allow_unmatched:
            click.secho(f"grade: {len(book.unmatched)} submission(s) not in the roster and {len(book.unresolved)} "
                        "not told apart (listed above): check them, then import grades.csv, or rerun with "
                        "--allow-unmatched to accept them", fg="red", err=True)
            return EXIT_NOT_FULL_MARKS
        return EXIT_OK

    _run(action)


@main.command(epilog=EXIT_CODES)
@assignment_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("release"), show_default=True,
              help="Folder of the release: replaced only once the new one is complete.")
@click.option("--force", is_flag=True, help="Publish even when the audit finds holes (the release's audit.txt "
                                            "and this command's output say so).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Audit: mistakes planted and graded at once (default: the number of CPUs).")
def release(assignment: Path | None, out: Path, force: bool, jobs: int | None) -> None:
    """Audit the assignment, then build what you hand out: the student release (folder and zip), Gradescope's
    autograder.zip, a GitHub Classroom starter repository and a GitLab CI job.

    A release whose audit finds a hole is not built (exit 1) unless --force; a build that fails leaves the
    last release in OUT as it was.
    """

    def action() -> int:
        from gatelab.authoring import audit as auditing
        from gatelab.authoring import release as releasing

        spec = _assignment(assignment)
        from gatelab.report import render
        renderer = render.for_assignment(spec.grader)
        releasing.require_fresh(spec)
        rows = _audited(spec, renderer, jobs)
        holes = sum(not row.ok for row in rows)
        if holes:
            click.echo(auditing.render(spec, renderer, rows, click.style), nl=False)
            if not force:
                click.secho(f"grade: not released: the audit found {holes} hole(s); fix them, or release anyway "
                            f"with --force. {out} is unchanged.", fg="red", err=True)
                return EXIT_NOT_FULL_MARKS
            click.secho(f"grade: releasing with {holes} audit hole(s), because of --force (recorded in audit.txt)",
                        fg="yellow", err=True)
        report = auditing.render(spec, renderer, rows, lambda text, **_: text)
        for path in releasing.build(spec, out.resolve(), renderer, audit=report, forced=bool(holes)):
            click.echo(f"wrote {path}")
        click.echo(f"audit: {len(rows) - holes} of {len(rows)} checks hold")
        for reminder in releasing.reminders(spec):
            click.secho(f"still to do: {reminder}", fg="yellow")
        return EXIT_OK

    _run(action)


@main.command(epilog=EXIT_CODES)
@assignment_option
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 if exercises/ is out of date with solutions/.")
def generate(assignment: Path | None, check_only: bool) -> None:
    """Generate the exercises (stubs), the locked question bank and the answer key."""

    def action() -> int:
        from gatelab.authoring import generate as generating

        spec = _assignment(assignment)
        if check_only:
            stale = generating.stale(spec)
            for path in stale:
                click.echo(f"{path}: out of date; run `grade generate`")
            return EXIT_NOT_FULL_MARKS if stale else EXIT_OK
        changed = generating.write(spec)
        for path in changed:
            click.echo(f"wrote {path}")
        click.echo(f"{len(changed)} file(s) written" if changed else "everything generated is up to date")
        return EXIT_OK

    _run(action)
