"""Grading a submission: config + reference + sandbox + pytest -> Results.

``grade`` is what ``grade check`` and ``grade autograde`` call; it owns the
order of things and nothing else (the plugin runs tests, the judge judges,
exporters show).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from gatelab.config import Assignment
from gatelab.contract import BY_NAME, MODULES
from gatelab.errors import ConfigError, GraderFault, UsageError, did_you_mean
from gatelab.results import Results, TestResult
from gatelab.sandbox import Sandbox

# Only what grading needs: no cache, terminal, capture, logging or end-of-run gc.collect passes.
_PYTEST_ARGS = ("-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise", "-p", "no:randomly",
                "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
                "-p", "no:logging", "-p", "no:warnings", "-p", "no:doctest", "-p", "no:pastebin",
                "-p", "no:junitxml", "-p", "no:legacypath", "-p", "no:python_path", "-p", "no:setuponly",
                "-p", "no:setupplan", "-p", "no:nose", "--capture=no", "--assert=plain",
                "--strict-markers", "--import-mode=importlib", "-o", "python_files=test_*.py",
                "-o", "addopts=", "-o", "testpaths=")


def check_target(target: str | None) -> None:
    """Refuse a target that names no module or function of the curriculum."""
    if target and target not in MODULES and target not in BY_NAME:
        raise UsageError(f"{target!r} is neither a module nor a function of the assignment."
                         f"{did_you_mean(target, [*MODULES, *BY_NAME])}")


def _forbidden(assignment: Assignment, submission: Path) -> list[Path]:
    """Folders a submission may not read: the reference and the hidden tests (unless it is one of them)."""
    return [p for p in (assignment.solutions, assignment.grader)
            if submission != p and p not in submission.parents]


def grade(assignment: Assignment, submission: Path, *, target: str | None = None, include_hidden: bool = True,
          on_result: Callable[[TestResult], None] | None = None) -> Results:
    """Grade ``submission`` (a folder of exercise files) and return every test's result."""
    check_target(target)
    submission = Path(submission).resolve()
    if not submission.is_dir():
        raise UsageError(f"the submission folder {submission} does not exist")
    started = time.perf_counter()
    results = Results(title=assignment.title, submission=str(submission), seed=assignment.seed)
    with Sandbox(submission, assignment.limits, forbid=_forbidden(assignment, submission)) as sandbox:
        sandbox.start()  # the worker imports numpy while the grader imports pytest and the reference
        from gatelab import catalog
        from gatelab.judge import Judge
        from gatelab.plugin import GradingPlugin
        from gatelab.reference import Reference
        from gatelab.render import Renderer

        renderer = Renderer(assignment.grader / "templates")
        reference = Reference(assignment.solutions)
        mistakes = catalog.load(assignment.grader / "mistakes")
        judge = Judge(sandbox, reference, renderer, assignment.seed, mistakes)
        plugin = GradingPlugin(assignment, judge, renderer, results, target=target,
                               include_hidden=include_hidden, on_result=on_result)
        code = _run_pytest(assignment.grader / "tests", plugin)
    if plugin.collection_errors:
        raise ConfigError("the grader's tests could not be collected:\n" + "\n".join(plugin.collection_errors))
    if code not in (0, 1, 5):  # pytest's OK, TESTS_FAILED, NO_TESTS_COLLECTED
        raise GraderFault(f"pytest stopped with exit code {int(code)} while running {assignment.grader / 'tests'}")
    results.seconds = time.perf_counter() - started
    return results


def _run_pytest(tests: Path, plugin: object) -> int:
    import pytest

    if not tests.is_dir():
        raise ConfigError(f"{tests}: the grader's test folder does not exist")
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our plugin: same grades on every machine
    try:
        return pytest.main([str(tests), "--rootdir", str(tests), *_PYTEST_ARGS], plugins=[plugin])
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved
