"""The pytest plugin that turns grader tests into graded, explained results.

pytest is the test engine: ``grader/tests`` holds ordinary test files. A
test that asks for the ``contract_test`` fixture is run once for every
(function, case) listed in ``grader/config.yaml`` under the functions its
``grades`` marker names; the ``grade`` fixture judges one such test.

An instructor's own test uses three fixtures: ``student`` (the submission's
functions, ``student.module.function(*args)``, each call run in the sandbox
and never in the grader's process, with the function's parts served by the
grader, so the test measures that function's own work), ``reference`` (the reference's functions,
``reference.module.function``) and ``close`` (compare as the judge does, and
fail with its feedback). Its ``points`` and ``visibility`` markers count as
for any test. The plugin keeps its results on itself (one instance per
grading run), never in module globals.

One pytest session grades one submission (``grade check``) or many (a
batch's process, watch mode): the tests are collected once and each
:class:`Job` runs the ones it selects. A contract test whose function does
nothing but ``grade(contract_test)`` (no other fixture, marker or line) is
judged directly, without pytest's per-test protocol, which is most of a
check's cost; every other test runs through pytest's own protocol.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable

import pytest

from gatelab.course.config import VALUES, Assignment, TestSpec
from gatelab.errors import ConfigError, did_you_mean
from gatelab.grading.judge import Judge, Verdict
from gatelab.grading.sandbox import HIDDEN, PUBLIC
from gatelab.grading.target import Target
from gatelab.report.render import Renderer
from gatelab.report.results import Cause, Kind, Results, Status, TestResult

MARKERS = {
    "grades": "grades(target): the module or function (module, module.function) a test grades",
    "points": "points(n): what a test is worth",
    "visibility": "visibility(v): visible, hidden, after_due_date or after_published",
}
_VERDICT = pytest.StashKey[Verdict]()
_PRINTED = pytest.StashKey[list[str]]()
_NOTES = pytest.StashKey[list[str]]()
_OWN_MARKERS = set(MARKERS) | {"parametrize"}  # markers that change nothing about how a test runs


@dataclass
class Job:
    """One grading run in a session: a submission's judge, where its results go, and which tests it runs."""

    judge: Judge
    results: Results
    target: str | None = None
    include_hidden: bool = True
    on_result: Callable[[TestResult], None] | None = None
    error: BaseException | None = field(default=None, repr=False)  # what stopped it (re-raised by the caller)


class Submission:
    """The student's functions for an instructor's test: ``student.module.function(*args)``.

    Each call runs in the sandbox, in the lane of the test's visibility; a call
    that does not return fails the test with the judge's explanation. A
    composite runs with the grader's parts, so a test measures its own work;
    ``student.as_written`` runs the student's code as written, parts and all
    (a long run that shows what the student's own code does).
    """

    def __init__(self, judge: Judge, lane: str, printed: list[str], module: str = "", own: bool = False) -> None:
        self._judge, self._lane, self._printed, self._module, self._own = judge, lane, printed, module, own

    @property
    def as_written(self) -> "Submission":
        """The same functions, each composite calling the student's own parts."""
        return Submission(self._judge, self._lane, self._printed, self._module, own=True)

    def __getattr__(self, name: str) -> Any:
        contract = self._judge.contract
        if not self._module:
            if name not in contract.modules:
                raise AttributeError(f"the assignment has no module {name!r}.{did_you_mean(name, contract.modules)}")
            return Submission(self._judge, self._lane, self._printed, name, self._own)
        qualname = f"{self._module}.{name}"
        if qualname not in contract.by_name:
            raise AttributeError(f"{self._module} has no function {name!r} in the contract."
                                 f"{did_you_mean(qualname, contract.by_name)}")
        return lambda *args: self._call(qualname, list(args))

    def _call(self, qualname: str, args: list[Any]) -> Any:
        outcome = self._judge.trials.call_student(qualname, args, self._lane, own=self._own)
        if outcome.output:
            self._printed.append(outcome.output)
        if not outcome.ok:
            pytest.fail(self._judge.explain_outcome(self._judge.contract.lookup(qualname), outcome), pytrace=False)
        return outcome.value


class GradingPlugin:
    """One pytest session: parametrizes contract tests, runs each job's tests, and records their results."""

    def __init__(self, assignment: Assignment, renderer: Renderer, jobs: Iterable[Job]) -> None:
        self.assignment = assignment
        self.renderer = renderer
        self.jobs = jobs
        self.job: Job | None = None
        self.collection_errors: list[str] = []
        self.ungraded: ConfigError | None = None  # config.yaml tests that no collected test runs
        self._direct: set[str] = set()  # node ids of the contract tests judged without pytest's protocol

    @property
    def _current(self) -> Job:
        if self.job is None:
            raise RuntimeError("a grading fixture was used outside a grading run")
        return self.job

    def pytest_configure(self, config: pytest.Config) -> None:
        for text in MARKERS.values():
            config.addinivalue_line("markers", text)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "contract_test" not in metafunc.fixturenames:
            return
        marker = metafunc.definition.get_closest_marker("grades")
        prefix = marker.args[0] if marker else ""
        specs = [s for s in self.assignment.tests
                 if not prefix or prefix in (s.function.module, s.function.qualname)]
        metafunc.parametrize("contract_test", [
            pytest.param(s, id=s.key,
                         marks=[pytest.mark.points(s.points), pytest.mark.visibility(s.visibility)])
            for s in specs])

    @pytest.fixture
    def grade(self, request: pytest.FixtureRequest) -> Callable[[TestSpec], None]:
        """Judge one contract test; fail it with the feedback as message."""

        def run(spec: TestSpec) -> None:
            verdict = self._current.judge.verdict(spec)
            request.node.stash[_VERDICT] = verdict
            if not verdict.passed:
                pytest.fail(verdict.feedback, pytrace=False)  # the feedback is the whole report

        return run

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Submission:
        """The submission's functions, each call run in the sandbox: ``student.module.function(*args)``."""
        printed: list[str] = []
        request.node.stash[_PRINTED] = printed
        lane = PUBLIC if _visibility(request.node) == "visible" else HIDDEN
        return Submission(self._current.judge, lane, printed)

    @pytest.fixture
    def reference(self) -> Any:
        """The reference's functions (trusted, in this process): ``reference.module.function``."""
        return self._current.judge.ref

    @pytest.fixture
    def note(self, request: pytest.FixtureRequest) -> Callable[[str], None]:
        """``note(text)``: a line the student reads under this test whether it passes or fails (a table of what
        their own code computed, say)."""
        notes: list[str] = []
        request.node.stash[_NOTES] = notes
        return notes.append

    @pytest.fixture
    def close(self) -> Callable[..., None]:
        """``close(got, expected, what="result", rtol=1e-6, atol=1e-12)``: fail with the judge's words unless equal."""

        def check(got: Any, expected: Any, what: str = "result", rtol: float = 1e-6, atol: float = 1e-12) -> None:
            explained = self._current.judge.difference(what, expected, got, rtol, atol)
            if explained:
                pytest.fail(explained, pytrace=False)

        return check

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        order: dict[TestSpec | None, int] = {spec: n for n, spec in enumerate(self.assignment.tests)}
        items.sort(key=lambda item: order.get(_spec_of(item), len(order)))  # curriculum order, stable
        judged: dict[Any, bool] = {}  # a test function and its markers, read once for all its cases
        for item in items:
            key = (getattr(item, "function", None), tuple(m.name for m in item.iter_markers()),
                   tuple(getattr(item, "fixturenames", ())))
            if key not in judged:
                judged[key] = _only_grades(item)
            if judged[key] and _spec_of(item) is not None:
                self._direct.add(item.nodeid)
        self.ungraded = _ungraded(self.assignment, items)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Run every job on the tests collected once; a job's failure is kept on the job, the session goes on."""
        for job in self.jobs:
            self.job = job
            try:
                if self.collection_errors:
                    raise ConfigError("the grader's tests could not be collected:\n" +
                                      "\n".join(self.collection_errors))
                if self.ungraded:
                    raise self.ungraded
                self._run(job, session.items)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - handed to the job's caller, who re-raises it
                job.error = exc
            finally:
                self.job = None
        return True

    def _run(self, job: Job, items: list[pytest.Item]) -> None:
        aim = Target(job.target)
        selected = [item for item in items if aim.selects(_function_of(item))]
        left_out = {item.nodeid for item in selected if _left_out(job, item)}
        job.judge.trials.prefetch(spec.function for spec in (_spec_of(item) for item in selected
                                                      if item.nodeid not in left_out) if spec is not None)
        for item in selected:
            if item.nodeid in left_out:
                job.results.hidden_count += 1
                job.results.hidden_points += _points(item)
            elif item.nodeid in self._direct:
                self._judge_directly(job, item)
            else:
                item.ihook.pytest_runtest_protocol(item=item, nextitem=None)

    def _judge_directly(self, job: Job, item: pytest.Item) -> None:
        """What ``grade(contract_test)`` does under pytest's protocol, without the protocol."""
        spec = _spec_of(item)
        assert spec is not None
        try:
            verdict = job.judge.verdict(spec)
        except Exception as exc:  # noqa: BLE001 - the grader's own failure: an error result, never a crash
            self._record(job, item, None, exc)
            return
        self._record(job, item, verdict, None if verdict.passed else pytest.fail.Exception(verdict.feedback, False))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[Any]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if self.job is not None and (call.when == "call" or (call.when == "setup" and report.failed)):
            self._record(self.job, item, item.stash.get(_VERDICT, None), call.excinfo.value if call.excinfo else None)
        return report

    def _record(self, job: Job, item: pytest.Item, verdict: Verdict | None, error: BaseException | None) -> None:
        points = _points(item)
        notes = item.stash.get(_NOTES, [])
        if error is None:
            status, feedback = Status.PASSED, verdict.feedback if verdict else "\n".join(notes)
        elif isinstance(error, (AssertionError, pytest.fail.Exception)):
            status, feedback = Status.FAILED, "\n".join([str(error), *notes])
        else:
            status, feedback = Status.ERROR, self.renderer.feedback("grader_error")
            job.results.faults.append(f"{item.nodeid}: {type(error).__name__}: {error}")
        spec = _spec_of(item)
        printed: list[str] = item.stash.get(_PRINTED, [])
        result = TestResult(
            name=spec.name if spec else _title(item), function=_function_of(item),
            score=points if status is Status.PASSED else 0.0, max_score=points, visibility=_visibility(item),
            status=status, feedback=feedback,
            output=verdict.output if verdict else "".join(printed),
            kind=Kind.OWN if spec is None else (Kind.VALUES if spec.aspect == VALUES else Kind.ASPECT),
            case=spec.key.split("-", 1)[1] if spec else "", mistakes=verdict.mistakes if verdict else [],
            judged=verdict.judged if verdict else True, cause=verdict.cause if verdict else Cause.NONE,
            cause_file=verdict.cause_file if verdict else "", wrong_output=verdict.wrong_output if verdict else "")
        job.results.tests.append(result)
        if job.on_result:
            job.on_result(result)


def _ungraded(assignment: Assignment, items: list[pytest.Item]) -> ConfigError | None:
    """The config's tests that no collected test runs (a module without its test file would be silently
    ungraded, its points missing from the maximum), as the error that names the first such function."""
    collected = {_spec_of(item) for item in items}
    missing = list(dict.fromkeys(s.function for s in assignment.tests if s not in collected))
    if not missing:
        return None
    first = missing[0]
    names = ", ".join(fn.qualname for fn in missing)
    return ConfigError(
        f"{names}: grader/config.yaml gives {'these functions' if len(missing) > 1 else 'this function'} tests, but no "
        f"test in grader/tests runs them, so they would not be graded. Add grader/tests/test_{first.module}.py with "
        f"a test marked @pytest.mark.grades({first.module!r}) that takes contract_test and calls "
        "grade(contract_test) (see the other test files there)", first.where or None)


def _only_grades(item: pytest.Item) -> bool:
    """Whether a contract test does exactly ``grade(contract_test)``: no other fixture, marker, decorator or
    statement, so judging its spec directly is what running it would do."""
    function = getattr(item, "function", None)
    if _spec_of(item) is None or function is None or hasattr(function, "__wrapped__") or \
            set(getattr(item, "fixturenames", ())) - {"request"} != {"contract_test", "grade"} or \
            any(mark.name not in _OWN_MARKERS for mark in item.iter_markers()):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return False
    definition = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(definition, ast.FunctionDef) or definition.name != function.__code__.co_name or \
            sorted(a.arg for a in definition.args.args) != ["contract_test", "grade"]:
        return False
    if not all(ast.unparse(d).startswith("pytest.mark.") for d in definition.decorator_list):
        return False
    body = definition.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring
    return len(body) == 1 and isinstance(body[0], ast.Expr) and ast.unparse(body[0]) == "grade(contract_test)"


def _left_out(job: Job, item: pytest.Item) -> bool:
    """Whether ``job`` leaves a test out, counted as hidden: it needs the reference where there is none (a
    student release), or a local check leaves it to grading."""
    needs_reference = job.judge.ref is None and "reference" in getattr(item, "fixturenames", ())
    return needs_reference or not job.include_hidden and _withheld_locally(item)


def _withheld_locally(item: pytest.Item) -> bool:
    """Whether a local check leaves this test to grading: a hidden test, except an aspect, which a local check
    judges on the public cases (so what grading finds there, a local check finds too)."""
    spec = _spec_of(item)
    return _visibility(item) != "visible" and (spec is None or spec.aspect == VALUES)


def _spec_of(item: pytest.Item) -> TestSpec | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("contract_test") if callspec else None


def _function_of(item: pytest.Item) -> str:
    spec = _spec_of(item)
    if spec:
        return spec.function.qualname
    marker = item.get_closest_marker("grades")
    return str(marker.args[0]) if marker else item.name


def _title(item: pytest.Item) -> str:
    doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines() if hasattr(item, "obj") else []
    return f"{_function_of(item)}: {doc[0].rstrip('.') if doc else item.name}"


def _points(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker else 1.0


def _visibility(item: pytest.Item) -> str:
    marker = item.get_closest_marker("visibility")
    return str(marker.args[0]) if marker else "hidden"
