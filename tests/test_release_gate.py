"""A release never publishes a broken course: it is swapped in whole, it is audited first, and a function that
no grader test runs is an error instead of points that silently vanish from the maximum."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COURSE, ROOT
from gatelab.authoring import release as releasing
from gatelab.course import config
from gatelab.report.render import Renderer

ATTENTION = ROOT / "examples" / "attention"  # the smallest course: its audit takes seconds
FREE_POINTS = '''"""An instructor's slip: a test that pays whatever the submission does."""
import pytest


@pytest.mark.grades("attention")
@pytest.mark.points(1)
@pytest.mark.visibility("visible")
def test_free(student):
    assert True
'''


def _grade(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatelab", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=600)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_release_that_fails_midway_leaves_the_last_one_untouched(tmp_path, monkeypatch):
    """The Gradescope part fails after the student part was written: the old release is exactly as it was, and
    no half-written folder is left beside it."""
    out = tmp_path / "release"
    (out / "student").mkdir(parents=True)
    (out / "student" / "README.md").write_text("the last good release\n")
    before = _tree(out)

    def broken(*_args: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(releasing, "_gradescope", broken)
    course = config.load(COURSE)
    with pytest.raises(OSError, match="No space left"):
        releasing.build(course, out, Renderer(course.grader / "templates"))
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release"]


def test_a_release_replaces_the_last_one_whole(tmp_path):
    """A file of the last release that the new one does not write is gone; nothing is left beside ``out``."""
    out = tmp_path / "release"
    out.mkdir()
    (out / "stale.txt").write_text("from last term\n")
    course = config.load(ATTENTION)
    written = releasing.build(course, out, Renderer(course.grader / "templates"), audit="All 3 checks hold.\n")
    assert not (out / "stale.txt").exists() and (out / "student.zip").is_file()
    assert all(path.exists() and out in path.parents for path in written)
    assert (out / releasing.AUDIT).read_text() == "All 3 checks hold.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release"]


def test_grade_release_refuses_a_course_whose_audit_fails(tmp_path):
    """A test that pays the stubs is a hole: nothing is published (exit 1, the last release kept) unless
    --force, which says so on the terminal and at the top of the release's audit.txt."""
    course = tmp_path / "course"
    shutil.copytree(ATTENTION, course, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    (course / "grader" / "tests" / "test_free.py").write_text(FREE_POINTS)
    for planted in (course / "grader" / "mistakes").glob("*"):  # fewer audit rows: the hole is elsewhere
        planted.unlink()
    out = tmp_path / "release"
    out.mkdir()
    (out / "marker").write_text("last good release\n")

    refused = _grade("release", "--assignment", str(course), "--out", str(out), cwd=tmp_path)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "HOLE" in refused.stdout and "stubs" in refused.stdout
    assert "not released: the audit found" in refused.stderr and "--force" in refused.stderr
    assert _tree(out) == {"marker": b"last good release\n"}

    forced = _grade("release", "--assignment", str(course), "--out", str(out), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "because of --force" in forced.stderr
    audit = (out / releasing.AUDIT).read_text()
    assert audit.startswith(releasing.FORCED) and "HOLE" in audit
    assert (out / "student.zip").is_file() and not (out / "marker").exists()


def test_grade_release_publishes_a_sound_course_with_its_audit(tmp_path):
    """The example course's audit holds: it is released, and audit.txt says every check held."""
    out = tmp_path / "release"
    result = _grade("release", "--assignment", str(ATTENTION), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    audit = (out / releasing.AUDIT).read_text()
    assert "HOLE" not in audit and "checks hold." in audit and not audit.startswith(releasing.FORCED)
    assert f"wrote {out / releasing.AUDIT}" in result.stdout
    assert ("still to do: prairielearn/: info.json names the image your-dockerhub-name/gatelab:" in result.stdout
            and "then set prairielearn: {image: NAME:TAG} in grader/config.yaml" in result.stdout)


def test_a_module_no_grader_test_runs_is_a_config_error(tmp_path):
    """Without grader/tests/test_lstm.py the LSTM's tests would silently not run (a smaller maximum, full
    marks on the rest): grading refuses, citing the contract's line for the first such function."""
    course = tmp_path / "course"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    (course / "grader" / "tests" / "test_lstm.py").unlink()
    result = _grade("check", "--assignment", str(course), cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    where = config.load(course).contract.lookup("lstm.forget_gate").where
    assert f"{where}: lstm.forget_gate, lstm.input_gate," in result.stderr
    assert "no test in grader/tests runs them" in result.stderr and "grades('lstm')" in result.stderr
    assert "gru." not in result.stderr
