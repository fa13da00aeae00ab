"""Grading a submission: config + reference + sandbox + pytest -> Results.

``grade`` is what ``grade check`` and ``grade autograde`` call; it owns the
order of things and nothing else (the plugin runs tests, the judge judges,
exporters show).
"""
from __future__ import annotations

import contextlib
import shlex
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from gatelab.course.config import Assignment
from gatelab.course.limits import WEAK, Limits
from gatelab.errors import ConfigError, UsageError, did_you_mean
from gatelab.grading import isolation
from gatelab.grading import target as targets
from gatelab.grading.sandbox import HIDDEN, PUBLIC, Sandbox
from gatelab.grading.submission import Context
from gatelab.report.results import Kind, Results, Status, TestResult, question_name

if TYPE_CHECKING:  # imported when first used: a check that never starts them never pays for them
    from gatelab.grading.forkserver import Template
    from gatelab.grading.oracle import Oracle
    from gatelab.grading.session import Resident
    from gatelab.quiz.opening import BankCache
    from gatelab.report.render import Renderer


QUIZ_MODES = ("full", "locked", "none")


def call_limits(assignment: Assignment, include_hidden: bool) -> Limits:
    """What each call may use. A check of the public tests only stops calling a function after its first time
    limit, where grading gives it ``strikes`` chances (a function that hangs on one case may pass another): an
    endless loop costs a check one time limit, not several."""
    if include_hidden:
        return assignment.limits
    return replace(assignment.limits, strikes=1)


def forbidden(assignment: Assignment) -> list[Path]:
    """Folders a submission may not read: the assignment's own (the worker reads a copy of the submission)."""
    return [assignment.root, assignment.solutions, assignment.grader]


@dataclass(frozen=True)
class Request:
    """What one grading run is asked, whoever asks (check, watch, autograde, batch, audit, release).

    ``target`` narrows it (a module, a function, ``quiz`` or ``quiz.<id>``);
    ``include_hidden`` runs the hidden tests too; ``quiz`` is ``full`` (the
    autograder's bank), ``locked`` (the student's copy, as on a student's
    machine) or ``none``; ``student`` picks the question variants (default:
    the answers file's ``student``, else the LMS's); ``for_lms``: the results
    go to a student through an LMS, so the quiz shows what the assignment's
    ``quiz`` setting allows now, and the rest later; ``context`` is what the
    LMS said of the submission (its student, dates, notices for the student
    and problems for the instructor), kept on the results.
    """

    target: str | None = None
    include_hidden: bool = True
    quiz: str = "full"
    student: str | None = None
    for_lms: bool = False
    context: Context = field(default_factory=Context)

    @property
    def who(self) -> str | None:
        """The student who picks the variants: the one asked for, else the LMS's."""
        return self.student or self.context.student


def grade(assignment: Assignment, submission: Path, request: Request = Request(), *,
          on_result: Callable[[TestResult], None] | None = None, renderer: Any = None, warm: Warm | None = None,
          sandbox: Sandbox | None = None) -> Results:
    """Grade ``submission`` (exercise files and answers.yaml) as ``request`` asks and return every test's result.

    Pass the command's ``renderer`` so that one is built per command. A
    caller that grades again and again (a batch's process, ``grade check
    --watch``) passes what it keeps between runs as ``warm`` (see
    :class:`Warm`), and may pass a ``sandbox`` it started ahead of time and
    restaged, and closes itself. ``on_result`` hears each test's result as it
    is judged.
    """
    from gatelab.grading.submission import holds_nothing, locate

    target, context = request.target, request.context
    aim = targets.Target.parse(assignment, target)
    wall = isolation.require(isolation.policy(assignment.isolation) if request.for_lms else WEAK)
    submission, notices = locate(Path(submission))
    started = time.perf_counter()
    results = Results(title=assignment.title, submission=str(submission), seed=assignment.seed,
                      student=request.who or "", checksum=assignment.checksum, notices=notices,
                      isolation=wall.summary(), isolation_missing=wall.missing(), empty=holds_nothing(submission))
    if warm is not None and request.include_hidden:  # grading reads the catalog up front (see load_oracle)
        results.instructor_notes.extend(warm.notes)
    quiz_only = aim.quiz_only

    from gatelab.report import render
    renderer = renderer or (warm.renderer if warm else render.for_assignment(assignment.grader))
    for qualname, (count, points) in assignment.withheld.items():  # a student release: run only at grading
        if aim.selects(qualname):
            results.hidden_count += count
            results.hidden_points += points
    if not quiz_only:
        template = warm.template if warm else None
        box = sandbox or Sandbox(submission, call_limits(assignment, request.include_hidden),
                                 forbid=forbidden(assignment), template=template)
        _grade_code(assignment, results, renderer, target, request.include_hidden, on_result, warm, box,
                    owned=sandbox is None)
    if request.quiz != "none" and (not target or quiz_only):
        _grade_quiz(assignment, submission, results, renderer, locked=request.quiz == "locked", student=request.who,
                    only=aim.question, for_lms=request.for_lms, banks=warm.banks if warm else None)
    results.notices.extend(context.notices)
    results.instructor_notes.extend(context.problems)
    results.due_date, results.submitted_at = context.due_date, context.submitted_at
    results.seconds = time.perf_counter() - started
    return results


def _grade_quiz(assignment: Assignment, submission: Path, results: Results, renderer: Any, *, locked: bool,
                student: str | None, only: str | None, for_lms: bool = False,
                banks: BankCache | None = None) -> None:
    """Mark every question against answers.yaml and add one ``quiz.<id>`` result per question (``banks``: the
    question banks a resident caller keeps, by file, read once)."""
    from gatelab.quiz import answers as answers_file
    from gatelab.quiz import opening
    from gatelab.quiz.identity import Reading
    from gatelab.quiz.marking import Mark
    from gatelab.report.results import quiz_points

    lock_path = opening.lock_path(assignment.exercises)
    if locked and not lock_path.is_file():
        results.notices.append(f"{lock_path}: there is no locked question bank; run grade generate")
        return
    opened = opening.open_bank(assignment.grader, assignment.exercises, locked, banks)
    bank, marker = opened.bank, opened.marker
    results.instructor_notes.extend(f"question bank: {p} (run grade validate)" for p in opened.problems)
    unmarkable = _released_but_broken(lock_path, bank, results) if opened.problems else []
    if only and bank.get(only) is None:
        raise UsageError(f"there is no question {only!r}.{did_you_mean(only, bank.ids)}")
    answers = answers_file.read(submission / answers_file.ANSWERS_NAME, bank.ids, shown_as=answers_file.ANSWERS_NAME)
    results.notices.extend(answers.problems)
    reading = Reading.of(answers, student)  # the LMS's id picks the numbers; letters are read as the student saw them
    who = results.student = reading.graded
    results.notices.extend(filter(None, [reading.notice(bank, answers)]))
    if for_lms and student and any(q.variables for q in bank.questions) and not (only or answers.unreadable):
        results.notices.append(f"Your quiz's numbers are those of student id {who!r}: grade quiz --student "
                               f"{shlex.quote(who)} "
                               "shows them on your machine (it keeps your answers' meaning).")
    points = quiz_points(assignment.quiz_share, assignment.code_points,
                         {q.id: q.points for q in (*bank.questions, *unmarkable)})
    for question in bank.questions:
        if only and question.id != only:
            continue
        try:
            mark = reading.mark(marker, question, answers).out_of(points[question.id])
        except Exception as exc:  # a template in the bank that fails for this variant: the grader's fault
            results.instructor_notes.append(f"{question.where}: question {question.id!r} failed for student "
                                            f"{who!r}: {type(exc).__name__}: {exc}")
            results.tests.append(_unmarked(question.id, points[question.id], renderer))
            continue
        if mark.status == "answered":  # an unmarked lock: counted, like a hidden test, as marked at grading
            results.hidden_count += 1
            results.hidden_points += mark.max_score
            mark = Mark(0.0, 0.0, mark.status, mark.feedback)
        feedback = f"{answers.where(question.id)}: {mark.feedback}" if mark.status == "invalid" else mark.feedback
        status = Status.PASSED if mark.status in ("correct", "answered") else Status.FAILED
        later = for_lms and assignment.quiz.now == "verdict" and mark.status not in ("unanswered", "invalid",
                                                                                      "unreadable")
        shown = renderer.feedback("quiz_verdict", status=mark.status, score=mark.score, points=mark.max_score,
                                  later=assignment.quiz.later) if later else feedback
        name = question_name(question.id)
        results.tests.append(TestResult(name, name, mark.score, mark.max_score, "visible", status, shown,
                                        kind=Kind.QUESTION, mark=mark.status))
        if later:  # explanations and right answers, when the setting says: one submission cannot read the key
            results.tests.append(TestResult(f"{name}: feedback", name, 0.0, 0.0, assignment.quiz.later,
                                            Status.PASSED, feedback, kind=Kind.QUESTION, mark=mark.status))
    for question in unmarkable:
        if not only or question.id == only:
            results.tests.append(_unmarked(question.id, points[question.id], renderer))


def _unmarked(question_id: str, points: float, renderer: Any) -> TestResult:
    """A question the grader could not mark: no points, the same maximum, and the grader's fault."""
    return TestResult(question_name(question_id), question_name(question_id), 0.0, points, "visible", Status.ERROR,
                      renderer.feedback("grader_error"), kind=Kind.QUESTION, mark="error")


def _released_but_broken(lock_path: Path, bank: Any, results: Results) -> list[Any]:
    """Questions the students were given (the locked bank) that the full bank failed to load.

    They still count, at their released points, so a broken file never
    changes the maximum score silently.
    """
    from gatelab.quiz.lock import load_locked

    if not lock_path.is_file():
        results.instructor_notes.append(f"{lock_path} is missing, so the points of the questions left out "
                                        "are unknown: the maximum score is lower than released")
        return []
    try:
        released = load_locked(lock_path).bank.questions
    except ConfigError as exc:
        results.instructor_notes.append(str(exc))
        return []
    return [q for q in released if bank.get(q.id) is None]


def _grade_code(assignment: Assignment, results: Results, renderer: Any, target: str | None,
                include_hidden: bool, on_result: Callable[[TestResult], None] | None, warm: Warm | None,
                sandbox: Sandbox, owned: bool) -> None:
    """Run the grader's pytest tests on the exercise functions, in ``sandbox`` (closed here if ``owned``), in
    the resident session of ``warm`` if there is one, else in a session of this run's own."""
    with sandbox if owned else contextlib.nullcontext(sandbox):
        sandbox.start(PUBLIC)  # workers import numpy while the grader imports pytest and the reference
        if include_hidden:
            sandbox.start(HIDDEN)
        from gatelab.grading import session as sessions
        from gatelab.grading.judge import Judge
        from gatelab.grading.plugin import Job

        oracle = warm.oracle if warm else load_oracle(assignment, results, eager=include_hidden)
        judge = Judge(sandbox, oracle, renderer, assignment, include_hidden)
        job = Job(judge, results, target=target, include_hidden=include_hidden, on_result=on_result)
        if warm is not None:
            warm.session.run(job)
        else:
            sessions.run(assignment, renderer, [job])
        results.notices.extend(sandbox.notes)
        results.limits_hit.extend(sandbox.limits_hit)
        results.instructor_notes.extend(judge.instructor_notes)
    if job.error is not None:
        raise job.error


def load_oracle(assignment: Assignment, results: Results, eager: bool = True) -> Any:
    """The reference and the catalog's formulas, or, in a student release, what it recorded of them.

    What is wrong in the catalog is told to ``results``'s instructor notes.
    Grading (``eager``) reads the catalog now, so its problems are told on
    every run; a local check reads it only when a mistake is first looked for
    (a check of stubs never does).
    """
    from gatelab.course import catalog
    from gatelab.grading.oracle import LiveOracle, RecordedOracle
    from gatelab.grading.reference import Reference

    def mistakes() -> Any:
        problems: list[str] = []
        loaded = catalog.load(assignment.grader / "mistakes", assignment.contract, problems,
                              formulas=assignment.recorded is None)
        results.instructor_notes.extend(f"mistake catalog: {p} (left out; run grade audit)" for p in problems)
        return loaded

    oracle: Any = RecordedOracle(assignment.recorded, mistakes) if assignment.recorded is not None else \
        LiveOracle(assignment, Reference(assignment.solutions, assignment.contract.modules), mistakes)
    if eager:
        oracle.read_catalog()
    return oracle


@dataclass
class Warm:
    """What a caller that grades again and again keeps between runs (a batch's process, watch mode): an
    oracle that remembers its answers (inputs, right results and catalog results are the same for every
    submission), the catalog's notes, a renderer, a pytest session with the tests collected once, a warm
    template that forks each fresh worker (None where the OS has no fork), and the question banks read once.
    The student's code still runs in fresh workers of its own for every run."""

    oracle: Oracle  # Remembered; the release's Listening when it records the reference's part calls
    notes: list[str]
    renderer: Renderer
    session: Resident
    template: Template | None
    banks: BankCache = field(default_factory=dict)

    @classmethod
    def start(cls, assignment: Assignment, renderer: Renderer | None = None) -> Warm:
        from gatelab.grading import forkserver
        from gatelab.grading.oracle import Remembered
        from gatelab.grading.session import Resident

        notes = Results(title="", submission="")
        oracle = load_oracle(assignment, notes)  # the catalog read now, so that its problems are told once
        from gatelab.report import render
        renderer = renderer or render.for_assignment(assignment.grader)
        return cls(Remembered(oracle), notes.instructor_notes, renderer, Resident(assignment, renderer),
                   forkserver.start())

    def close(self) -> None:
        self.session.close()
        if self.template is not None:
            self.template.close()


class WarmCache:
    """The warm grading states of the assignments graded last in this process, the newest ``size`` kept (an
    older one closed): one cache for the check server, a batch's processes and a Dask worker. A state is made
    again when its assignment changed (its checksum, or limits set for the run, such as a batch's budget)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[str, tuple[tuple[str, Any], Warm]] = {}  # assignment root -> (what it was made for, it)

    def get(self, assignment: Assignment) -> Warm:
        """The ``Warm`` of ``assignment``, now the newest."""
        root, made_for = str(assignment.root), (assignment.checksum, assignment.limits)
        kept = self._kept.pop(root, None)
        if kept is not None and kept[0] != made_for:
            kept[1].close()
            kept = None
        if kept is None:
            kept = (made_for, Warm.start(assignment))
        self._kept[root] = kept
        while len(self._kept) > self.size:
            self._kept.pop(next(iter(self._kept)))[1].close()
        return kept[1]

    @property
    def roots(self) -> list[str]:
        """The assignments kept warm, oldest first."""
        return list(self._kept)

    def close(self) -> None:
        for _, warm in self._kept.values():
            warm.close()
        self._kept.clear()
