"""A grade never depends on the machine's load: time limits count a worker's active time (``clock``), not the wall
clock, so a slow but correct submission keeps its points while other processes keep every core busy."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import fast_course, write_submission
from gatelab.cli import main

BURN = 0.4  # CPU seconds each call of the slow function spends: under the fast course's 1 s limit
_BURN_CODE = f"import time\nstart = time.process_time()\nwhile time.process_time() - start < {BURN}:\n    pass\n"
_SLOW = ("    return 1.0 - np.tanh(z) ** 2\n",
         "    import time as _time\n    _start = _time.process_time()\n"
         f"    while _time.process_time() - _start < {BURN}:\n        pass\n    return 1.0 - np.tanh(z) ** 2\n")


def _class(folder: Path) -> None:
    """A correct submission, the same with a tanh_derivative that spends BURN s of CPU per call, a buggy one and
    one whose sigmoid never returns."""
    write_submission(folder / "correct", {})
    write_submission(folder / "slow", {"activations": _SLOW})
    write_submission(folder / "buggy", {"activations": ("    return 1.0 - np.tanh(z) ** 2\n",
                                                        "    return 1.0 - np.tanh(z)\n")})
    write_submission(folder / "hanging", {"activations": ("    z = np.asarray(z, dtype=np.float64)\n",
                                                          "    while True:\n        pass\n")})


def _grades(submissions: Path, out: Path, assignment: Path) -> str:
    result = CliRunner().invoke(main, ["batch", str(submissions), "--out", str(out), "--jobs", "2",
                                       "--assignment", str(assignment)])
    assert result.exit_code == 0, result.output
    return (out / "grades.csv").read_text()


def _busy_cores() -> list[subprocess.Popen]:
    """Three endless loops per core, each in a session of its own (as other graders on the machine are)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(3 * (os.cpu_count() or 1))]


def _burn_seconds() -> float:
    """Wall-clock seconds a process takes to spend BURN s of CPU now."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", _BURN_CODE], check=True)
    return time.monotonic() - start


@pytest.mark.load
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="active time is counted from Linux's /proc")
def test_a_loaded_machine_gives_the_same_grades_as_an_idle_one(tmp_path):
    assignment = fast_course(tmp_path / "course")
    _class(tmp_path / "class")
    idle = _grades(tmp_path / "class", tmp_path / "idle", assignment)
    hogs = _busy_cores()
    try:
        time.sleep(0.5)
        assert _burn_seconds() > 1.0, "the load must make a slow call overrun a wall-clock limit, or this shows nothing"
        loaded = _grades(tmp_path / "class", tmp_path / "loaded", assignment)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert loaded == idle
    scores = {line.split(",")[0]: line.split(",")[5] for line in idle.splitlines()[2:]}
    assert scores["slow"] == scores["correct"] and float(scores["buggy"]) < float(scores["correct"])
    assert float(scores["hanging"]) < float(scores["correct"])
