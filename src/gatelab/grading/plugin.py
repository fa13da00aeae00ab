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
"""
from __future__ import annotations

from typing import Any, Callable, Generator

import pytest

from gatelab.course.config import VALUES, Assignment, TestSpec
from gatelab.errors import did_you_mean
from gatelab.grading.judge import Judge, Verdict
from gatelab.grading.sandbox import HIDDEN, PUBLIC
from gatelab.report.render import Renderer
from gatelab.report.results import Kind, Results, Status, TestResult

MARKERS = {
    "grades": "grades(target): the module or function (module, module.function) a test grades",
    "points": "points(n): what a test is worth",
    "visibility": "visibility(v): visible, hidden, after_due_date or after_published",
}
_VERDICT = pytest.StashKey[Verdict]()
_PRINTED = pytest.StashKey[list[str]]()



class Submission:
    """The student's functions for an instructor's test: ``student.module.function(*args)``.

    Each call runs in the sandbox, in the lane of the test's visibility; a call
    that does not return fails the test with the judge's explanation.
    """

    def __init__(self, judge: Judge, lane: str, printed: list[str], module: str = "") -> None:
        self._judge, self._lane, self._printed, self._module = judge, lane, printed, module

    def __getattr__(self, name: str) -> Any:
        contract = self._judge.contract
        if not self._module:
            if name not in contract.modules:
                raise AttributeError(f"the assignment has no module {name!r}.{did_you_mean(name, contract.modules)}")
            return Submission(self._judge, self._lane, self._printed, name)
        qualname = f"{self._module}.{name}"
        if qualname not in contract.by_name:
            raise AttributeError(f"{self._module} has no function {name!r} in the contract."
                                 f"{did_you_mean(qualname, contract.by_name)}")
        return lambda *args: self._call(qualname, list(args))

    def _call(self, qualname: str, args: list[Any]) -> Any:
        outcome = self._judge.call_student(qualname, args, self._lane)
        if outcome.output:
            self._printed.append(outcome.output)
        if not outcome.ok:
            pytest.fail(self._judge.explain_outcome(self._judge.contract.lookup(qualname), outcome), pytrace=False)
        return outcome.value


class GradingPlugin:
    """One grading run: parametrizes contract tests, filters them, and records results."""

    def __init__(self, assignment: Assignment, judge: Judge, renderer: Renderer, results: Results, *,
                 target: str | None = None, include_hidden: bool = True,
                 on_result: Callable[[TestResult], None] | None = None) -> None:
        self.assignment = assignment
        self.judge = judge
        self.renderer = renderer
        self.results = results
        self.target = target
        self.include_hidden = include_hidden
        self.on_result = on_result
        self.collection_errors: list[str] = []

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
            verdict = self.judge.check(spec)
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
        return Submission(self.judge, lane, printed)

    @pytest.fixture
    def reference(self) -> Any:
        """The reference's functions (trusted, in this process): ``reference.module.function``."""
        return self.judge.ref

    @pytest.fixture
    def close(self) -> Callable[..., None]:
        """``close(got, expected, what="result", rtol=1e-6, atol=1e-12)``: fail with the judge's words unless equal."""

        def check(got: Any, expected: Any, what: str = "result", rtol: float = 1e-6, atol: float = 1e-12) -> None:
            explained = self.judge.difference(what, expected, got, rtol, atol)
            if explained:
                pytest.fail(explained, pytrace=False)

        return check

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep, drop = [], []
        for item in items:
            function = _function_of(item)
            in_target = not self.target or self.target in (function, function.split(".")[0])
            needs_reference = self.judge.ref is None and "reference" in getattr(item, "fixturenames", ())
            if in_target and (needs_reference or not self.include_hidden and _withheld_locally(item)):
                self.results.hidden_count += 1
                self.results.hidden_points += _points(item)
                drop.append(item)
            elif in_target:
                keep.append(item)
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        order: dict[TestSpec | None, int] = {spec: n for n, spec in enumerate(self.assignment.tests)}
        keep.sort(key=lambda item: order.get(_spec_of(item), len(order)))  # curriculum order, stable
        items[:] = keep

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[Any]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "call" or (call.when == "setup" and report.failed):
            self._record(item, call)
        return report

    def _record(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> None:
        verdict = item.stash.get(_VERDICT, None)
        points = _points(item)
        error = call.excinfo.value if call.excinfo else None
        if error is None:
            status, feedback = Status.PASSED, verdict.feedback if verdict else ""
        elif isinstance(error, (AssertionError, pytest.fail.Exception)):
            status, feedback = Status.FAILED, str(error)
        else:
            status, feedback = Status.ERROR, self.renderer.feedback("grader_error")
            self.results.faults.append(f"{item.nodeid}: {type(error).__name__}: {error}")
        spec = _spec_of(item)
        printed: list[str] = item.stash.get(_PRINTED, [])
        result = TestResult(
            name=spec.name if spec else _title(item), function=_function_of(item),
            score=points if status is Status.PASSED else 0.0, max_score=points, visibility=_visibility(item),
            status=status, feedback=feedback,
            output=verdict.output if verdict else "".join(printed),
            kind=Kind.OWN if spec is None else (Kind.VALUES if spec.aspect == VALUES else Kind.ASPECT),
            case=spec.key.split("-", 1)[1] if spec else "", mistakes=verdict.mistakes if verdict else [],
            judged=verdict.judged if verdict else True)
        self.results.tests.append(result)
        if self.on_result:
            self.on_result(result)


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
