"""The check server: a served `grade check` prints and exits as a check run alone, and is never reached by
anyone else; a stale, idle or unwanted server costs nothing."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import COURSE
from gatelab import server

pytestmark = pytest.mark.skipif(not server.supported(), reason="this OS has no check server")


@pytest.fixture
def runtime(monkeypatch) -> Path:
    """A private runtime folder of the test's own, for the client here and for the commands it runs (short:
    a socket's path may hold about 100 bytes, and pytest's tmp_path is long)."""
    folder = Path(tempfile.mkdtemp(prefix="gl-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.setenv(server.IDLE, "60")
    yield folder
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _grade(*args: str, served: str = "1", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, server.SWITCH: served}
    return subprocess.run([sys.executable, "-m", "gatelab", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def _started() -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = server.status()
        if state is not None:
            return state
        time.sleep(0.1)
    raise AssertionError("no check server started")


def test_a_served_check_prints_and_exits_as_a_check_run_alone(runtime, tmp_path):
    exercises = tmp_path / "exercises"
    shutil.copytree(COURSE / "exercises", exercises)
    runs = [("check", "--assignment", str(COURSE), "--submission", str(exercises)),
            ("check", "lstm", "--assignment", str(COURSE), "--submission", str(exercises), "--strict"),
            ("check", "lstmm", "--assignment", str(COURSE))]
    alone = [_grade(*args, served="0") for args in runs]
    first = _grade(*runs[0])  # run here, and leaves a server behind
    assert (first.stdout, first.returncode) == (alone[0].stdout, alone[0].returncode)
    assert _started()["checks"] == 0
    served = [_grade(*args) for args in runs]
    assert server.status()["checks"] == len(runs)
    for by_server, by_itself in zip(served, alone):
        assert (by_server.stdout, by_server.stderr, by_server.returncode) == \
            (by_itself.stdout, by_itself.stderr, by_itself.returncode)
    assert [r.returncode for r in served] == [0, 1, 2] and "Did you mean 'lstm'?" in served[2].stderr


def test_a_served_check_grades_the_files_as_they_are_now(runtime, tmp_path):
    exercises = tmp_path / "exercises"
    shutil.copytree(COURSE / "exercises", exercises)
    args = ("check", "activations.sigmoid", "--assignment", str(COURSE), "--submission", str(exercises))
    _grade(*args)
    _started()
    before = _grade(*args)
    source = exercises / "activations.py"
    text = source.read_text()
    stub = text[text.index("def sigmoid"):]
    stub = stub[:stub.index("raise NotImplementedError")]
    source.write_text(text.replace(stub + "raise NotImplementedError", stub + "return 1 / (1 + np.exp(-z))", 1))
    after = _grade(*args)
    assert server.status()["checks"] == 2
    assert "not implemented yet" in before.stdout and "not implemented yet" not in after.stdout
    assert after.stdout == _grade(*args, served="0").stdout


def test_no_server_without_a_terminal_unless_asked(runtime):
    _grade("check", "activations.sigmoid", "--assignment", str(COURSE), served="")  # auto, output piped
    time.sleep(1.0)
    assert server.status() is None


def test_a_dead_servers_socket_leaves_the_check_to_run_here(runtime):
    path = server.address()
    assert path is not None
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # bound, never listening: as after a crash
    dead.close()
    assert server.ask(["check"]) is None
    run = _grade("check", "activations.sigmoid", "--assignment", str(COURSE), served="0")
    assert run.returncode == 0 and "sigmoid" in run.stdout


def test_a_server_stops_when_idle(runtime, monkeypatch):
    monkeypatch.setenv(server.IDLE, "2")
    path = server.address()
    assert path is not None
    process = subprocess.Popen([sys.executable, "-m", "gatelab.resident", str(path)])
    try:
        assert _started()["checks"] == 0
        assert process.wait(timeout=60) == 0
        assert not path.exists()
    finally:
        process.kill()


def test_a_socket_path_too_long_for_the_os_gets_no_server(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / ("long" * 30)))
    assert server.address() is None and server.ask(["check"]) is None


def test_a_runtime_folder_others_can_reach_gets_no_server(runtime):
    (runtime / "gatelab").mkdir()
    (runtime / "gatelab").chmod(0o755)
    assert server.address() is None and server.ask(["check"]) is None


def test_an_upgraded_gatelab_gets_a_server_of_its_own(tmp_path):
    package = tmp_path / "gatelab"
    package.mkdir()
    module = package / "x.py"
    module.write_text("a = 1\n")
    before = server.fingerprint(package)
    module.write_text("a = 22\n")
    assert server.fingerprint(package) != before


def test_only_check_goes_to_the_server(monkeypatch):
    monkeypatch.setenv(server.SWITCH, "1")
    assert server.eligible(["check", "lstm"]) and not server.eligible(["check", "--watch"])
    assert not server.eligible(["autograde", "--submission", "x"]) and not server.eligible([])
    monkeypatch.setenv(server.SWITCH, "0")
    assert not server.eligible(["check"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's wall is Linux's")
def test_a_served_check_runs_student_code_behind_the_wall(runtime, tmp_path):
    """The server's workers build the same wall as a check run alone: seccomp's filter and no_new_privs,
    seen from inside the student's code."""
    from conftest import WALL_REPORT, write_submission
    from gatelab.grading import isolation

    submission = write_submission(tmp_path / "walled", {})
    with open(submission / "activations.py", "a") as module:
        module.write(WALL_REPORT)
    args = ("check", "activations.sigmoid", "--verbose", "--assignment", str(COURSE), "--submission", str(submission))
    _grade(*args)
    _started()
    served = _grade(*args)
    assert server.status()["checks"] == 1 and served.returncode == 0, served.stdout + served.stderr
    seen = [line.strip() for line in served.stdout.splitlines() if line.strip().startswith("wall: ")]
    assert seen and all(("seccomp=2" in line) == isolation.wall().seccomp and "no_new_privs=1" in line
                        for line in seen), served.stdout
