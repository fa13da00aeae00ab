"""`grade batch --scheduler`: a class graded on a Dask cluster (a LocalCluster of worker processes) gives the
same grades.csv and results as a local run, also when a worker is killed mid-batch."""
from __future__ import annotations

import io
import json
import os
import signal
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_batch import fast_root  # noqa: F401 - the fast assignment (timeout 1 s, budget 8 s), a fixture

from conftest import WALL_REPORT, write_submission
from gatelab.cli import main
from gatelab.course import config
from gatelab.grading import batch

dask = pytest.importorskip("distributed")
MISTAKES = yaml.safe_load((Path(__file__).resolve().parent / "mistakes.yaml").read_text())


def make_class(folder: Path) -> list[str]:
    """Eight small submissions: correct ones (one nested, one zipped), buggy ones, an empty one, a broken zip."""
    for i in range(2):
        write_submission(folder / f"correct{i}", {})
    write_submission(folder / "nested" / "homework", {})
    for name in sorted(MISTAKES)[:2]:
        entry = MISTAKES[name]
        write_submission(folder / f"buggy_{name}", {entry["module"]: (entry["replace"], entry["with"])})
    (folder / "empty").mkdir()
    source = write_submission(folder.parent / "zip-source", {})
    with zipfile.ZipFile(folder / "zipped.zip", "w") as bundle:
        for path in source.glob("*.py"):
            bundle.write(path, f"my-work/{path.name}")
    (folder / "broken.zip").write_bytes(b"not a zip at all")
    return sorted(p.stem for p in folder.iterdir())


@pytest.fixture(scope="module")
def local(fast_root, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """The class, graded here (two processes): the run every cluster run must equal."""
    base = tmp_path_factory.mktemp("class")
    students = make_class(base / "submissions")
    result = CliRunner().invoke(main, ["batch", str(base / "submissions"), "--out", str(base / "local"),
                                       "--jobs", "2", "--assignment", str(fast_root)])
    assert result.exit_code == 0, result.output
    return base, students


@pytest.fixture(scope="module")
def cluster():
    """A Dask cluster of two worker processes (each under its nanny, which restarts it if it dies)."""
    with dask.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as running:
        yield running


def _results(out: Path, student: str) -> dict:
    document = json.loads((out / "results" / f"{student}.json").read_text())
    document.pop("seconds", None)  # how long it took: it may differ
    if student == "zipped":  # where it was unpacked: a new temporary folder on every run, local ones too
        document.pop("submission")
    return document


def _same_as_local(base: Path, out: Path, students: list[str]) -> None:
    assert (out / "grades.csv").read_text() == (base / "local" / "grades.csv").read_text()
    for student in students:
        assert _results(out, student) == _results(base / "local", student), student


def test_a_cluster_grades_a_class_as_a_local_run_does(local, cluster, fast_root):  # noqa: F811
    """The CLI on a scheduler's address: the same grades.csv and the same results, nested, zipped and broken
    submissions included (they travel as bytes; the results name them where they are here)."""
    base, students = local
    out = base / "dask"
    result = CliRunner().invoke(main, ["batch", str(base / "submissions"), "--out", str(out),
                                       "--scheduler", cluster.scheduler_address, "--assignment", str(fast_root)])
    assert result.exit_code == 0, result.output
    assert f"{len(students)} submissions (0 unchanged since the last run, 1 not graded)" in result.output
    _same_as_local(base, out, students)
    assert _results(out, "correct0")["submission"] == str(base / "submissions" / "correct0")
    assert "broken.zip is not a readable zip file" in _results(out, "broken")["error"]


@pytest.mark.skipif(sys.platform == "win32", reason="kills a worker with SIGKILL")
def test_a_worker_killed_mid_batch_costs_nothing_and_counts_nothing_twice(local, cluster, fast_root):  # noqa: F811
    """SIGKILL a worker process that is grading: Dask runs its lost task again on a worker that lives; every
    student has one row, and grades.csv is the local run's."""
    from gatelab.grading import distributed

    base, students = local
    out = base / "killed"
    seen: list[str] = []
    lost: list[str] = []

    with distributed.Cluster(cluster.scheduler_address, fast_root) as engine:
        client = engine.client

        def kill_one_that_grades(row: batch.Row) -> None:
            seen.append(row.student)
            if lost:
                return
            busy = {worker: keys for worker, keys in client.processing().items() if keys}
            worker = sorted(busy)[0]
            pid = client.run(os.getpid, workers=[worker])[worker]
            lost.extend(busy[worker])
            os.kill(pid, signal.SIGKILL)

        rows = batch.run(config.load(fast_root), base / "submissions", out, budget=None, on_row=kill_one_that_grades,
                         engine=engine)
    assert lost and any(key.startswith("gatelab-grade-") for key in lost)  # a submission was being graded
    assert sorted(seen) == [row.student for row in rows] == students  # each student once
    assert not any(row.error.startswith("grading stopped") for row in rows)
    state = json.loads((out / batch.STATE).read_text())
    assert sorted(state) == students
    result = CliRunner().invoke(main, ["batch", str(base / "submissions"), "--out", str(out),
                                       "--scheduler", cluster.scheduler_address, "--assignment", str(fast_root)])
    assert result.exit_code == 0, result.output  # the CLI writes grades.csv from the kept rows
    assert f"({len(students)} unchanged since the last run" in result.output
    _same_as_local(base, out, students)


def test_a_cluster_that_cannot_grade_is_refused_with_how_to_fix_it(fast_root, tmp_path):  # noqa: F811
    """A worker with two threads would run pytest twice at once in one process: exit 2, saying how to start it."""
    make_class(tmp_path / "submissions")
    with dask.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as threaded:
        result = CliRunner().invoke(main, ["batch", str(tmp_path / "submissions"), "--out", str(tmp_path / "out"),
                                           "--scheduler", threaded.scheduler_address, "--assignment", str(fast_root)])
    assert result.exit_code == 2
    assert "run more than one thread" in result.output and "--nthreads 1" in result.output


def test_without_dask_the_scheduler_option_says_how_to_install_it(fast_root, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails, as when not installed
    (tmp_path / "submissions").mkdir()
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "submissions"), "--out", str(tmp_path / "out"),
                                       "--scheduler", "tcp://127.0.0.1:8786", "--assignment", str(fast_root)])
    assert result.exit_code == 2 and 'pip install "gatelab[dask]"' in result.output


def test_a_folder_is_sent_without_what_grading_leaves_out(tmp_path):
    """Packing a folder for a worker never follows a symbolic link (the trusted side reads nothing through it)
    and leaves out hidden folders and caches."""
    from gatelab.grading.distributed import pack_submission

    secret = tmp_path / "secret.txt"
    secret.write_text("the instructor's key")
    folder = write_submission(tmp_path / "student", {})
    (folder / "answers_link.py").symlink_to(secret)
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("x")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "rnn.cpython-311.pyc").write_bytes(b"x")
    packed, notices = pack_submission(folder)
    with zipfile.ZipFile(io.BytesIO(packed)) as bundle:
        names = bundle.namelist()
        assert not any(b"instructor" in bundle.read(name) for name in names)
    assert sorted(names) == sorted(p.name for p in folder.glob("*.py") if not p.is_symlink())
    assert notices == ["answers_link.py is a symbolic link; it was left out (submit the file itself)"]


def test_a_worker_process_unpacks_the_assignment_once_and_keeps_one_warm_state(fast_root, tmp_path,  # noqa: F811
                                                                                monkeypatch):
    """Every task a Dask worker's process runs grades against the same unpacked assignment, so the process
    keeps one warm grading state (not one more pytest session and worker template per task), and a task that
    ends early (a broken zip) removes nothing another task's session reads."""
    from gatelab.grading import distributed, run

    started = []
    start = run.Warm.start.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(run.Warm, "start", classmethod(lambda cls, *a, **k: started.append(1) or start(cls, *a, **k)))
    data = distributed.pack_assignment(fast_root)
    good = write_submission(tmp_path / "good", {})
    packed, _ = distributed.pack_submission(good)
    rows = [distributed.grade_sent(data, "broken", "broken.zip", "broken.zip", b"not a zip", True, [], None)]
    root = distributed._assignment_folder(data)
    rows += [distributed.grade_sent(data, f"s{n}", str(good), "good", packed, False, [], None) for n in range(2)]
    assert "not a readable zip file" in rows[0]["error"]
    assert not rows[1]["error"] and rows[1]["score"] > 0 and rows[1]["score"] == rows[2]["score"]
    assert (root / "grader" / "config.yaml").is_file()
    assert len(started) <= 1  # one warm state for all three tasks (none if an earlier test made it)



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's wall is Linux's")
def test_a_cluster_grades_behind_the_same_wall(cluster, fast_root, tmp_path):  # noqa: F811
    """Workers started by a Dask worker process build the same wall as local ones: seccomp's filter and
    no_new_privs, seen from inside the student's code, and (as root) a user of their own."""
    from gatelab.grading import isolation

    folder = write_submission(tmp_path / "submissions" / "walled", {})
    with open(folder / "activations.py", "a") as module:
        module.write(WALL_REPORT)
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "submissions"), "--out", str(tmp_path / "out"),
                                       "--scheduler", cluster.scheduler_address, "--assignment", str(fast_root),
                                       "--isolation", "weak"])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "out" / "results" / "walled.json").read_text())
    seen = {line for test in document["tests"] for line in test.get("output", "").splitlines()
            if line.startswith("wall: ")}
    wall = isolation.wall()
    assert seen, "no test showed the sigmoid's output"
    assert all(t["status"] == "passed" for t in document["tests"] if t["function"] == "activations.sigmoid")
    for line in seen:
        assert ("seccomp=2" in line) == wall.seccomp and "no_new_privs=1" in line, line
        if wall.root:
            assert int(line.rsplit("uid=", 1)[1]) >= isolation.ID_FLOOR, line
    assert document["isolation"] == wall.summary()
