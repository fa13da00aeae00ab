"""``grade batch``: a whole class, one submission per subfolder or ``.zip``, graded in parallel.

A folder of Canvas's "Download Submissions" (flat files named by student, see ``grading.canvas``) is read
into students too: each student's latest uploads are written under the names the assignment expects in
``<out>/canvas/<student>/`` and graded from there, their Canvas id and LATE mark kept on their row.

Every submission gets its row, whatever it is (empty, nested, broken, hostile):
a failure to grade one is recorded as its reason and the batch goes on. What
is kept between runs lives in the output folder only (``state.json``): a
submission whose files and assignment did not change is not graded again.
Writes ``results/<student>.json``, ``feedback/<student>.md`` and ``.html``,
``grades.csv`` and ``summary.html``.

Where submissions are graded is an :class:`Engine`: a process pool here
(:class:`Local`), a Dask cluster in ``grading.distributed``. ``run`` is the
same for both: rows are kept by student as they finish, in whatever order,
and a student already recorded is never recorded again.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence

from gatelab.course.config import Assignment
from gatelab.errors import GatelabError, UsageError
from gatelab.grading.submission import submitted_files
from gatelab.version import __version__

if TYPE_CHECKING:
    from gatelab.report.classbook import Gradebook
    from gatelab.report.reasons import Explained
    from gatelab.similarity.compare import Comparison, Options

STATE = "state.json"
_SAFE = re.compile(r"[^\w.@+-]+")  # letters of any script stay (Zoë_Müller), as NFC: a Mac's names match


@dataclass
class Row:
    """One submission of the class: who, and what grading it gave (or why it could not)."""

    student: str
    source: str
    score: float = 0.0
    max_score: float = 0.0
    error: str = ""  # why it could not be graded
    reused: bool = False  # unchanged since the last run: its results were kept
    results: dict[str, Any] = field(default_factory=dict)  # gatelab's JSON of its results, until written
    markdown: str = ""  # its feedback as Markdown and as a page (rendered where the Results object is)
    html: str = ""
    digest: dict[str, Any] = field(default_factory=dict)  # what the class summary needs; kept once written
    unclear: bool = False  # its folder does not say which student it is: not graded, no grades.csv row, no files
    canvas_id: str = ""  # from a Canvas download: the student's Canvas user id (grades.csv's ID)
    canvas_name: str = ""  # from a Canvas download: the name in its file names (sortable, squashed: müllerzoë)
    late: bool = False  # from a Canvas download: Canvas marked the submission LATE


def sort_out(folder: Path, canvas_students: Mapping[str, Path] | None = None
             ) -> tuple[dict[str, Path], dict[Path, str]]:
    """(student name -> submission, in name order; submission -> why it is not graded).

    A subfolder or a ``.zip`` is one submission, named by its folder (or zip) name cleaned up for a file name
    and a CSV cell; loose files are none (Canvas's are read by ``grading.canvas``, and its students given here
    as ``canvas_students``: name -> where their files are). Folders whose names clean up to the same student
    (``jsmith`` and ``!jsmith``, ``JSmith`` and ``jsmith``) are all refused, never told apart by their order:
    which of them is the student's is for a person to say."""
    from gatelab.grading import canvas

    if not folder.is_dir():
        raise UsageError(f"the submissions folder {folder} does not exist")
    named: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not (path.is_dir() or path.suffix.lower() == ".zip"):
            continue
        if path.is_file() and canvas.parse(path):  # a student's zip in a Canvas download: one of their files
            continue
        stem = unicodedata.normalize("NFC", path.stem if path.is_file() else path.name)
        name = _SAFE.sub("_", stem).strip("_") or "unnamed"
        named.setdefault(name.casefold(), []).append((name, path))
    for name, path in (canvas_students or {}).items():
        named.setdefault(name.casefold(), []).append((name, path))
    found: dict[str, Path] = {}
    refused: dict[Path, str] = {}
    for group in named.values():
        if len(group) == 1:
            found[group[0][0]] = group[0][1]
            continue
        folders = ", ".join(repr(path.name) for _, path in group)
        for _, path in group:
            refused[path] = (f"the folders {folders} clean up to the same student, {group[0][0]}: none of them "
                             "is graded or takes a row; rename or remove all but one and grade again")
    return dict(sorted(found.items())), refused


def submissions(folder: Path) -> dict[str, Path]:
    """Student name -> submission, in name order: the ones :func:`sort_out` does not refuse."""
    return sort_out(folder)[0]


def count(folder: Path) -> int:
    """How many rows grading ``folder`` gives: its submissions, its Canvas download's students and the
    folders refused (nothing is written)."""
    from gatelab.grading import canvas

    if not folder.is_dir():
        raise UsageError(f"the submissions folder {folder} does not exist")
    found, refused = sort_out(folder, {key: folder / key for key in canvas.group(folder)})
    return len(found) + len(refused)


def expected_files(assignment: Any) -> list[str]:
    """The file names a submission of ``assignment`` holds: a module per contract module, and the answers."""
    from gatelab.quiz.answers import ANSWERS_NAME

    return [f"{module}.py" for module in assignment.contract.modules] + [ANSWERS_NAME]


def stage_canvas(folder: Path, out: Path, expected: list[str]) -> dict[str, tuple[Path, list[str], Any]]:
    """The students of a Canvas download in ``folder``, each staged in ``out/canvas/<student>/``: name ->
    (their folder, notices for them, the ``canvas.Student``). ``out/canvas`` is made afresh."""
    from gatelab.grading import canvas

    students = canvas.group(folder)
    staging = out / "canvas"
    shutil.rmtree(staging, ignore_errors=True)
    staged = {}
    for key, student in students.items():
        notices = canvas.stage(student, staging / key, expected)
        staged[key] = (staging / key, notices, student)
    return staged


def _students(assignment: Assignment, folder: Path, out: Path) -> tuple[dict[str, tuple[Path, list[str], Any]],
                                                                        dict[str, Path], dict[Path, str]]:
    """The students of ``folder``: its Canvas download's staged in ``out/canvas`` (:func:`stage_canvas`),
    then every submission :func:`sort_out` finds, and the folders it refuses."""
    canvas_students = stage_canvas(folder, out, expected_files(assignment))
    found, refused = sort_out(folder, {key: path for key, (path, _, _) in canvas_students.items()})
    return canvas_students, found, refused


def fingerprint(path: Path) -> str:
    """What a submission holds, as a hash: a zip's bytes, or every file of a folder that grading looks at
    (``submission.submitted_files``: name and bytes, read in chunks). A symbolic link is never followed (grading leaves
    links out too): its own name and target count."""
    digest = hashlib.sha256()
    held = [path] if path.is_file() else [file for file, _ in submitted_files(path)]
    for file in held:
        digest.update(str(file.relative_to(path.parent)).encode() + b"\0")
        if file.is_symlink():
            digest.update(b"-> " + os.fsencode(os.readlink(file)))
        else:
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(2**20), b""):
                    digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def _prepared(root: str, budget: float | None) -> tuple[Any, Any]:
    """The assignment and what grading keeps between submissions (``run.Warm``), made once per process of the
    batch (the process's ``WarmCache``): every submission is graded on the same inputs against the same right
    results and catalog, in one pytest session, each in fresh workers forked from one template and never
    reused for another."""
    assignment = _loaded(root, budget)
    return assignment, _warm_states().get(assignment)


@functools.cache
def _warm_states() -> Any:
    """This process's warm grading states (a batch's worker process, a Dask worker)."""
    from gatelab.grading.run import WarmCache

    return WarmCache(2)


@functools.lru_cache(maxsize=2)
def _loaded(root: str, budget: float | None) -> Assignment:
    """The assignment at ``root``, read once per process, with the batch's ``budget`` when one was given."""
    from dataclasses import replace

    from gatelab.course import config

    assignment = config.load(Path(root))
    if budget:
        assignment = replace(assignment, limits=replace(assignment.limits, budget=budget))
    return assignment


def grade_one(root: str, student: str, source: str, budget: float | None,
              notices: Sequence[str] = ()) -> dict[str, Any]:
    """Grade one submission (in a worker process of the batch); returns its row as plain data. ``notices``
    (how its files were found) go first in its feedback."""
    from gatelab.grading.run import Request, grade
    from gatelab.grading.submission import unpack

    row = Row(student, source)
    with tempfile.TemporaryDirectory(prefix="gatelab-batch-") as tmp:
        try:
            assignment, warm = _prepared(root, budget)
            folder, found = Path(source), list(notices)
            if folder.is_file():
                found += unpack(folder, Path(tmp))
                folder = Path(tmp)
            results = grade(assignment, folder, Request(include_hidden=True, student=student, for_lms=True), warm=warm)
            results.notices[:0] = found
            from gatelab.report import classbook
            from gatelab.report.exporters import json as json_exporter
            from gatelab.report.exporters import markdown

            row.results = json_exporter.render(results)
            row.markdown = markdown.render(results, warm.renderer)
            row.html = classbook.feedback_html(row.results, warm.renderer)
            row.score, row.max_score = results.score, results.max_score
        except GatelabError as exc:
            row.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one submission never stops the batch
            row.error = f"the grader failed on this submission: {type(exc).__name__}: {exc}"
    return row.__dict__


class Engine(Protocol):
    """Where submissions are graded: ``submit`` starts one and returns its future (its result: a row as plain
    data; ``notices`` go first in its feedback), ``finished`` yields futures as they end, in whatever order."""

    def submit(self, root: Path, student: str, source: Path, budget: float | None,
              notices: Sequence[str] = ()) -> Any: ...

    def finished(self, futures: Iterable[Any]) -> Iterator[Any]: ...


class Local:
    """This machine: ``jobs`` processes, each grading one submission at a time with :func:`grade_one`."""

    def __init__(self, jobs: int) -> None:
        self.pool = ProcessPoolExecutor(max_workers=max(1, jobs))

    def submit(self, root: Path, student: str, source: Path, budget: float | None,
              notices: Sequence[str] = ()) -> Future[dict[str, Any]]:
        return self.pool.submit(grade_one, str(root), student, str(source), budget, list(notices))

    def finished(self, futures: Iterable[Any]) -> Iterator[Any]:
        return as_completed(list(futures))

    def __enter__(self) -> Local:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown()


def run(assignment: Assignment, folder: Path, out: Path, jobs: int = 1, budget: float | None = None,
        on_row: Callable[[Row], None] | None = None, engine: Engine | None = None) -> list[Row]:
    """Grade every submission in ``folder`` into ``out`` on ``engine`` (default: ``jobs`` local processes);
    rows in student order, then the folders :func:`sort_out` refused (``unclear``, with why). Each holds its
    score and the ``digest`` the class summary needs (its results and feedback are in ``out``, written as it
    finished, so memory does not grow with every test's words). The students of a Canvas download in
    ``folder`` are staged in ``out/canvas/`` first, and their rows carry their Canvas id and LATE mark."""
    from gatelab.report import render

    root, checksum = assignment.root, assignment.checksum
    write_row = functools.partial(_write_row, out, renderer=render.for_assignment(assignment.grader))
    canvas_students, found, refused = _students(assignment, folder, out)
    notices = {key: staged[1] for key, staged in canvas_students.items()}
    (out / "results").mkdir(parents=True, exist_ok=True)
    state_path = out / STATE
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    rows: dict[str, Row] = {}
    todo: dict[str, tuple[Path, str]] = {}
    for student, source in found.items():
        key = f"{fingerprint(source)}:{checksum}:{__version__}"
        kept = out / "results" / f"{student}.json"
        if state.get(student, {}).get("key") == key and kept.is_file():
            row = Row(**state[student]["row"], reused=True, results=json.loads(kept.read_text()))
            write_row(row, written=True)
            rows[student] = row
            if on_row:
                on_row(row)
        else:
            todo[student] = (source, key)
    if engine is None:
        with Local(jobs) as local:
            _grade(local, root, budget, todo, out, state, rows, on_row, write_row, notices)
    else:
        _grade(engine, root, budget, todo, out, state, rows, on_row, write_row, notices)
    for gone in set(state) - set(found):  # a submission removed from the folder leaves the run
        state.pop(gone)
        (out / "results" / f"{gone}.json").unlink(missing_ok=True)
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True))
    unclear = [Row(path.name, str(path), error=why, unclear=True) for path, why in sorted(refused.items())]
    for row in unclear:
        if on_row:
            on_row(row)
    for row in [*rows.values(), *unclear]:  # from this download, whatever an earlier run recorded
        staged = canvas_students.get(row.student)
        if staged:
            row.canvas_id, row.canvas_name, row.late = staged[2].canvas_id, staged[2].who or row.student, staged[2].late
        else:
            row.canvas_id, row.canvas_name, row.late = "", "", False
    return [rows[s] for s in sorted(rows)] + unclear


@dataclass(frozen=True)
class ClassReport:
    """What a class's grading gave, beyond the files it wrote (``grades.csv``, ``summary.html``, each
    student's results and feedback): every row, the gradebook's matching, who came late, and why each zero."""

    rows: list[Row]
    book: Gradebook
    late: list[str]
    explained: Explained
    similarity: Comparison | None = None  # the class compared (``--similarity``), written to similarity.csv


def grade_class(assignment: Assignment, folder: Path, out: Path, *, jobs: int = 1, budget: float | None = None,
                roster: Path | None = None, column: str | None = None, engine: Engine | None = None,
                on_row: Callable[[Row], None] | None = None, similarity: Options | None = None) -> ClassReport:
    """``grade batch``'s work: grade every submission in ``folder`` (see :func:`run`), then write Canvas's
    ``grades.csv`` (matched to ``roster`` when given; the assignment column ``column``, default the title)
    and the class summary ``summary.html`` into ``out``; with ``similarity``, compare the class too
    (:func:`compare_class`) for the summary's section and ``similarity.csv``."""
    from gatelab.report import classbook, reasons, render

    rows = run(assignment, folder, out, jobs=jobs, budget=budget, on_row=on_row, engine=engine)
    compared = None
    (out / "similarity.csv").unlink(missing_ok=True)  # an earlier run's: no longer this class's
    if similarity is not None:
        graded = [row for row in rows if not row.unclear]
        compared = compare_class(assignment, {row.student: Path(row.source) for row in graded}, out, similarity,
                                 jobs, {row.student: row.digest for row in graded})
    people = classbook.read_roster(roster) if roster else None
    book = classbook.canvas_csv(rows, column or assignment.title, people)
    (out / "grades.csv").write_text(book.text, encoding="utf-8", newline="")
    late = [row.student for row in rows if row.late]  # Canvas marked them LATE
    explained = reasons.explain(rows, late=late, unmatched=book.unmatched)
    (out / "summary.html").write_text(classbook.summary_html(rows, assignment.title,
                                                             render.for_assignment(assignment.grader), explained,
                                                             book.unresolved, compared))
    return ClassReport(rows, book, late, explained, compared)


def compare_class(assignment: Assignment, sources: Mapping[str, Path], out: Path, options: Options, jobs: int = 1,
                  digests: Mapping[str, Mapping[str, Any]] | None = None) -> Comparison:
    """Compare every submission (student -> folder or .zip) with every other (``gatelab.similarity``), the
    assignment's stubs and reference as boilerplate, and write ``out/similarity.csv``. ``digests``: each
    student's row digest, for the uncommon mistakes they share (without: code alone)."""
    from gatelab.grading import submission
    from gatelab.similarity import compare, outcomes, report

    modules = tuple(assignment.contract.modules)
    read = functools.partial(submission.sources, modules=modules)
    boilerplate = compare.Boilerplate.of(*(read(where) if where.is_dir() else {}
                                           for where in (assignment.exercises, assignment.solutions)))
    found = {student: outcomes.of_digest(digest) for student, digest in (digests or {}).items()}
    comparison = compare.compare({student: str(path) for student, path in sources.items()}, read, boilerplate,
                                 found, options, jobs)
    out.mkdir(parents=True, exist_ok=True)
    (out / "similarity.csv").write_text(report.csv_text(comparison), encoding="utf-8", newline="")
    return comparison


def similar(assignment: Assignment, folder: Path, out: Path, options: Options, jobs: int = 1) -> Comparison:
    """``grade similarity``'s work: compare the submissions of ``folder`` (as ``grade batch`` finds them) and
    write ``out/similarity.csv`` and ``out/similarity.html``. A ``grade batch`` into the same ``out`` left
    each student's results there: their uncommon mistakes count too."""
    from gatelab.report import classbook, render
    from gatelab.similarity import report

    _, found, _ = _students(assignment, folder, out)
    digests = {}
    for student in found:
        kept = out / "results" / f"{student}.json"
        if kept.is_file():
            digests[student] = classbook.digest(json.loads(kept.read_text(encoding="utf-8")))
    comparison = compare_class(assignment, found, out, options, jobs, digests)
    (out / "similarity.html").write_text(report.page(comparison, assignment.title,
                                                     render.for_assignment(assignment.grader)), encoding="utf-8")
    return comparison


def _grade(engine: Engine, root: Path, budget: float | None, todo: dict[str, tuple[Path, str]], out: Path,
           state: dict[str, Any], rows: dict[str, Row], on_row: Callable[[Row], None] | None,
           write_row: Callable[[Row], None], notices: Mapping[str, list[str]]) -> None:
    """Grade ``todo`` on ``engine``, keeping each row (and the state) as it finishes; once per student.
    ``notices``: per student, how their files were found (a Canvas download's renamings)."""
    if not todo:
        return
    futures = {engine.submit(root, student, source, budget, notices.get(student, [])): student
               for student, (source, _) in todo.items()}
    for future in engine.finished(futures):
        student = futures.pop(future)  # held no longer: a cluster forgets it, and need not remake it if lost
        if student in rows:  # graded twice (a lost worker's task run again): recorded once
            continue
        try:
            row = Row(**future.result())
        except Exception as exc:  # noqa: BLE001 - a worker process that died, and stayed dead
            row = Row(student, str(todo[student][0]), error=f"grading stopped: {type(exc).__name__}: {exc}")
        rows[student] = row
        write_row(row)
        state[student] = {"key": todo[student][1], "row": {k: v for k, v in row.__dict__.items()
                                                           if k not in ("results", "reused", "markdown", "html",
                                                                        "digest")}}
        (out / STATE).write_text(json.dumps(state, indent=1, sort_keys=True))
        if on_row:
            on_row(row)


def _write_row(out: Path, row: Row, renderer: Any, written: bool = False) -> None:
    """results/<student>.json (gatelab's JSON, or why there are none) and feedback/<student>.md and .html
    (unless ``written`` by an earlier run and still there); then the row keeps only its digest."""
    from gatelab.report import classbook
    from gatelab.report.exporters import json as json_exporter
    from gatelab.report.fences import fenced

    document = row.results or {**json_exporter.failure(row.error), "title": "", "student": row.student,
                               "max_score": 0.0, "notices": []}
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    if not written:
        (out / "results" / f"{row.student}.json").write_text(json.dumps(document, indent=1, ensure_ascii=False))
        (feedback / f"{row.student}.md").write_text(row.markdown or f"# Not graded\n\n{fenced(row.error)}\n")
    page = feedback / f"{row.student}.html"
    if not written or not page.is_file():
        page.write_text(row.html or classbook.feedback_html(document, renderer))
    row.digest = classbook.digest(document)
    row.results, row.markdown, row.html = {}, "", ""


def clear(out: Path) -> None:
    """Forget a previous run (a fresh --out is a fresh run; this makes one in place)."""
    shutil.rmtree(out, ignore_errors=True)
