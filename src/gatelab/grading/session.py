"""The pytest session over the grader's tests: collected once, then run for one submission or for many.

``run`` grades in this thread and returns (``grade check``, ``grade
autograde``). :class:`Resident` keeps a session open in a thread of its own
for a caller that grades again and again (a batch's process, watch mode):
the tests are collected once, and each :meth:`Resident.run` runs one job
on them. Either way pytest runs with only what grading needs.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
from pathlib import Path
from typing import Iterable, Iterator

from gatelab.course.config import Assignment
from gatelab.errors import ConfigError, GraderFault
from gatelab.grading.plugin import GradingPlugin, Job
from gatelab.report.render import Renderer

# Only what grading needs: no cache, terminal, capture, logging or end-of-run gc.collect passes.
PYTEST_ARGS = ("-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise", "-p", "no:randomly",
               "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
               "-p", "no:logging", "-p", "no:warnings", "-p", "no:doctest", "-p", "no:pastebin",
               "-p", "no:junitxml", "-p", "no:legacypath", "-p", "no:python_path", "-p", "no:setuponly",
               "-p", "no:setupplan", "-p", "no:nose", "--capture=no", "--assert=plain",
               "--strict-markers", "--import-mode=importlib", "-o", "python_files=test_*.py",
               "-o", "addopts=", "-o", "testpaths=")


def run(assignment: Assignment, renderer: Renderer, jobs: Iterable[Job]) -> None:
    """Run ``jobs`` in one pytest session in this thread; what stops a job is left on the job."""
    from pytest import ExitCode  # imported with pytest itself, by _main: a check that grades nothing needs neither

    code = _main(assignment, GradingPlugin(assignment, renderer, jobs))
    if code == ExitCode.INTERRUPTED:  # Ctrl-C, which pytest caught: the caller stops as it would
        raise KeyboardInterrupt
    if code not in (ExitCode.OK, ExitCode.TESTS_FAILED, ExitCode.NO_TESTS_COLLECTED):
        raise GraderFault(f"pytest stopped with exit code {int(code)} while running {assignment.grader / 'tests'}")


def _main(assignment: Assignment, plugin: GradingPlugin) -> int:
    import pytest

    tests = assignment.grader / "tests"
    if not tests.is_dir():
        raise ConfigError(f"{tests}: the grader's test folder does not exist")
    _forget_namesakes(tests)
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our plugin: same grades on every machine
    try:
        return int(pytest.main([str(tests), "--rootdir", str(tests), *PYTEST_ARGS], plugins=[plugin]))
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved


def _forget_namesakes(tests: Path) -> None:
    """Let this folder's test files be imported as themselves: pytest's importlib mode names a module by its
    path below the root (``test_rnn``) and reuses a module of that name already imported, which in one
    process may be another assignment's file of the same name (a batch of two assignments, the test suite)."""
    for path in tests.rglob("*.py"):
        relative = path.relative_to(tests).with_suffix("")
        name = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if module is not None and (origin is None or Path(origin).resolve() != path.resolve()):
            del sys.modules[name]


class Resident:
    """A pytest session kept open in a thread of its own; :meth:`grade` runs one job on its tests.

    Jobs run one at a time, in order. The thread is a daemon: a caller
    stopped by Ctrl-C does not wait for it.
    """

    def __init__(self, assignment: Assignment, renderer: Renderer) -> None:
        self._queue: queue.Queue[tuple[Job, threading.Event] | None] = queue.Queue()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, args=(assignment, renderer), daemon=True,
                                        name="gatelab-session")
        self._thread.start()

    def _serve(self, assignment: Assignment, renderer: Renderer) -> None:
        try:
            run(assignment, renderer, self._jobs())
        except BaseException as exc:  # noqa: BLE001 - told to every job asked for from now on
            self._failure = exc
        self._failure = self._failure or GraderFault("the grading session ended")

    def _jobs(self) -> Iterator[Job]:
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            job, done = entry
            try:
                yield job
            finally:
                done.set()

    def run(self, job: Job) -> None:
        """Run ``job`` in the session and wait for it; what stopped it is on ``job.error``."""
        done = threading.Event()
        self._queue.put((job, done))
        while not done.wait(0.05):
            if not self._thread.is_alive():
                job.error = job.error or self._failure
                return

    def close(self, timeout: float = 10.0) -> None:
        """End the session (its tests' teardown runs), waiting at most ``timeout`` seconds for the job running
        now (the thread is a daemon: a process that stops does not wait for it)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
