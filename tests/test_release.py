"""`grade release`: what students and LMSs get, built reproducibly, working where no reference exists."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import COURSE, build_release, write_submission
from gatelab.course import config


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_release(tmp_path_factory.mktemp("release"))


def _run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatelab", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_the_release_is_reproducible(built, tmp_path):
    """Built twice, every zip (and the wheel inside) is byte-identical."""
    again = build_release(tmp_path / "again")
    for name in ("student.zip", "gradescope/autograder.zip"):
        assert (built / name).read_bytes() == (again / name).read_bytes(), name


def test_the_student_release_holds_no_answer(built):
    """No reference code, no answer key, no formulas, and nothing recorded but the public cases."""
    from gatelab.grading import wire

    names = zipfile.ZipFile(built / "student.zip").namelist()
    assert not [n for n in names if n.startswith("solutions/") or n.endswith("answers.yaml")]
    assert not [n for n in names if n.startswith("grader/mistakes/") and n.endswith(".py")]
    text = "".join(zipfile.ZipFile(built / "student.zip").read(n).decode("utf-8", "replace") for n in names
                   if not n.endswith((".whl", ".bin")))
    solution = (COURSE / "solutions" / "lstm.py").read_text()
    body = next(line for line in solution.splitlines() if "np.concatenate([h_prev, x_t]" in line)
    assert body.strip() not in text and "BEGIN SOLUTION" not in text
    recorded = wire.decode((built / "student" / "grader" / "recorded.bin").read_bytes()[4:])["records"]
    public = {f"{s.function.qualname}|{s.case.name}" for s in config.load(COURSE).tests
              if s.aspect == "values" and s.visibility == "visible"}
    assert set(recorded) == public


def test_grade_check_in_the_unzipped_release(built, tmp_path):
    """Where no reference exists: the reference code gets full public marks, from the release's root and from
    its exercises folder, and a planted catalogued mistake is named."""
    home = tmp_path / "student"
    zipfile.ZipFile(built / "student.zip").extractall(home)
    assert not (home / "solutions").exists()
    work = home / "exercises"
    for source in (COURSE / "solutions").glob("*.py"):
        shutil.copy(source, work / source.name)
    shutil.copy(COURSE / "solutions" / "answers.yaml", work / "answers.yaml")
    for cwd in (home, work):
        result = _run("check", "--strict", "--student", "reference", cwd=cwd)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr
        assert "hidden tests" in result.stdout and "run at grading" in result.stdout
    wrong = write_submission(tmp_path / "tanh", {"lstm": ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                                          'return np.tanh(params["Wf"] @ concat + params["bf"])')})
    result = _run("check", "lstm.forget_gate", "--submission", str(wrong), cwd=home)
    assert "known mistake lstm-forget-gate-tanh" in result.stdout, result.stdout


def test_the_wheel_installs_and_runs_on_its_own(built, tmp_path):
    """The bundled wheel is the instructor's gatelab: installed apart from this checkout, it runs."""
    (wheel,) = (built / "student" / "wheels").glob("gatelab-*-py3-none-any.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True, timeout=300)
    result = subprocess.run([sys.executable, "-c", "import gatelab, sys; print(gatelab.__file__)"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(target)})
    assert result.stdout.strip().startswith(str(target))
    assert (target / "gatelab" / "templates" / "feedback.j2").is_file()


def test_the_wheels_description_is_for_students_not_the_instructor_manual(built):
    """The wheel's metadata carries docs/package.md (short, what a student runs), not README.md."""
    (wheel,) = (built / "student" / "wheels").glob("gatelab-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as bundle:
        (metadata,) = [n for n in bundle.namelist() if n.endswith(".dist-info/METADATA")]
        text = bundle.read(metadata).decode("utf-8")
    description = text.split("\n\n", 1)[1]
    package = Path(__file__).resolve().parent.parent / "docs" / "package.md"
    assert description.strip() == package.read_text(encoding="utf-8").strip()
    assert len(description) < 2000 and "For instructors" not in text and "grade release" not in text


def test_run_autograder_grades_a_submission_in_a_gradescope_root(built, tmp_path):
    """autograder.zip has setup.sh and run_autograder at its root (executable); run in a temporary root with a
    submission_metadata.json, it writes results.json with full marks for the reference."""
    bundle = zipfile.ZipFile(built / "gradescope" / "autograder.zip")
    modes = {info.filename: info.external_attr >> 16 for info in bundle.infolist()}
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    root = tmp_path / "autograder"
    bundle.extractall(root / "source")
    submission = root / "submission" / "my-work"  # zipped inside a folder: flattened, with a notice
    submission.mkdir(parents=True)
    for source in (COURSE / "solutions").iterdir():
        if source.is_file():
            shutil.copy(source, submission / source.name)
    (root / "submission_metadata.json").write_text(json.dumps({
        "id": 7, "created_at": "2026-11-20T10:00:00+00:00", "assignment": {"due_date": "2026-11-29T23:00:00+00:00"},
        "users": [{"id": "reference", "email": "", "name": "Reference"}]}))
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                         env={**os.environ, "GATELAB_AUTOGRADER_ROOT": str(root), "GATELAB_PYTHON": sys.executable},
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "isolation: landlock" in run.stderr or sys.platform != "linux", run.stderr
    assert not [p for p in (root / "source").rglob("*") if p.stat().st_mode & 0o077], "the bundle is root's alone"
    document = json.loads((root / "results" / "results.json").read_text())
    assert document["score"] == sum(t["max_score"] for t in document["tests"]) > 0
    assert document["extra_data"]["student"] == "reference"
    assert document["extra_data"]["assignment"] == config.load(COURSE).checksum
    assert "inside the folder my-work/" in document["output"]


def test_the_github_and_gitlab_files(built):
    """The Classroom starter holds the student release and a workflow that grades with --format github and
    hands the result to Classroom's reporter; GitLab's job reports JUnit."""
    import yaml

    classroom = built / "github-classroom"
    assert (classroom / "exercises").is_dir() and not (classroom / "solutions").exists()
    workflow = yaml.safe_load((classroom / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    grade = next(s for s in steps if s.get("id") == "gatelab")
    assert "--format github" in grade["run"]
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    assert reporter["with"]["runners"] == "gatelab"
    assert reporter["env"]["GATELAB_RESULTS"] == "${{ steps.gatelab.outputs.result }}"
    job = yaml.safe_load((built / "gitlab" / ".gitlab-ci.yml").read_text())["grade"]
    assert job["artifacts"]["reports"]["junit"] == "gatelab.xml"


def test_the_student_readme_says_which_id_picks_the_quiz_numbers(built):
    """Per platform, the id that picks the numbers, and the command that shows them before submitting."""
    readme = (built / "student" / "README.md").read_text()
    section = readme.split("## Your quiz numbers", 1)[1].split("\n## ", 1)[0]
    for said in ("**Gradescope**: the email address of your Gradescope account", "**GitHub Classroom**: your GitHub "
                 "username", "`grade batch`", "grade quiz --student THAT-ID", "Upper and lower case do not matter",
                 "**Canvas**", "`lovelaceada_12345`"):
        assert said in section, said


def test_a_right_composite_keeps_its_points_at_home_when_a_part_is_wrong(built, tmp_path):
    """From the unzipped release (no reference anywhere): a right lstm_cell_forward and lstm_forward over a wrong
    forget_gate keep their public points, told to fix the gate first, as grading judges them."""
    home = tmp_path / "student"
    zipfile.ZipFile(built / "student.zip").extractall(home)
    wrong = write_submission(home / "exercises", {"lstm": ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                                           'return np.tanh(params["Wf"] @ concat + params["bf"])')})
    result = _run("check", "lstm", cwd=wrong)
    out = " ".join(result.stdout.split())
    assert "so fix lstm.forget_gate first" in out, result.stdout
    assert "cannot run" not in out and "only at grading" not in out, result.stdout
    for composite in ("lstm_cell_forward", "lstm_forward"):  # its public case, shape and dtype, inputs unchanged
        assert re.search(rf"✓ {composite} +(\d+)/\1\b", result.stdout), result.stdout


def test_the_release_records_the_calls_a_right_composite_makes(built):
    """Every public case of a composite records each call of its reference to its parts, in order; a plain
    function records none."""
    from gatelab.grading import wire

    records = wire.decode((built / "student" / "grader" / "recorded.bin").read_bytes()[4:])["records"]
    cell = records["lstm.lstm_cell_forward|small"]["parts"]
    assert [c["part"] for c in cell] == ["lstm.forget_gate", "lstm.input_gate", "lstm.candidate_cell",
                                         "lstm.output_gate", "lstm.cell_state", "lstm.hidden_state"]
    assert [c["part"] for c in records["rnn.rnn_forward|small"]["parts"]] == ["rnn.rnn_cell_forward"] * 6
    assert records["activations.sigmoid|small"]["parts"] == []


def test_the_student_folder_ignores_what_grade_check_writes(built):
    """A student's repository (GitHub Classroom) does not commit the quiz's seen-state file or bytecode."""
    from gatelab.report.seen import SEEN_NAME

    assert ".gitignore" in zipfile.ZipFile(built / "student.zip").namelist()
    ignored = (built / "github-classroom" / ".gitignore").read_text().splitlines()
    assert SEEN_NAME in ignored and "__pycache__/" in ignored


def test_the_student_grader_holds_the_schemas_its_yaml_files_name(built):
    """contract.yaml's first line names grader/schemas/contract.schema.json: the schemas go along, and the
    config.yaml the release writes meets its schema too."""
    pytest.importorskip("jsonschema")
    from gatelab.course import schemas

    grader = built / "student" / "grader"
    first = (grader / "contract.yaml").read_text().splitlines()[0]
    assert (grader / first.split("$schema=", 1)[1]).is_file()
    assert schemas.check(grader) == []
