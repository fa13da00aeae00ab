"""PrairieLearn: `--format prairielearn` writes its external grader's results.json as documented
(docs/externalGrading.md), and the release's question passes PrairieLearn's own info.json schema and grades a
real submission when its entry point runs as PrairieLearn runs it (the files in /grade, exit status 0)."""
from __future__ import annotations

import html.parser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import build_release, write_submission
from gatelab import __version__ as gatelab_version
from gatelab import grading
from gatelab.authoring import pins
from gatelab.report.exporters import prairielearn
from gatelab.report.results import Kind, Results, Status, TestResult

SCHEMA = Path(__file__).resolve().parent / "schemas" / "prairielearn" / "infoQuestion.json"
TANH_GATE = ('return sigmoid(params["Wf"] @ concat + params["bf"])',
             'return np.tanh(params["Wf"] @ concat + params["bf"])')  # a known mistake in lstm.forget_gate
MEGABYTE = 1024 * 1024  # PrairieLearn's grader host refuses a larger results.json


def documented(document: dict) -> None:
    """results.json as PrairieLearn documents it and its grader accepts it: JSON under 1 MB; gradable (a bool)
    with a numeric score in [0, 1]; a message; tests each with a name, points and max_points (all of them, or the
    element shows no points), a message and an output."""
    raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert len(raw) <= MEGABYTE and json.loads(raw) == document
    assert isinstance(document["gradable"], bool) and isinstance(document["message"], str)
    if document["gradable"]:
        assert isinstance(document["score"], float) and 0.0 <= document["score"] <= 1.0
    for test in document["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert all(isinstance(test[k], float) and test[k] >= 0 for k in ("points", "max_points"))
        assert test["points"] <= test["max_points"]
        assert isinstance(test["message"], str) and isinstance(test["output"], str)


@pytest.fixture(scope="module")
def tanh_gate(assignment, tmp_path_factory):
    gate = TANH_GATE
    folder = write_submission(tmp_path_factory.mktemp("tanh"), {"lstm": gate})
    return grading.grade(assignment, folder,
                         grading.Request(student="ada", quiz="none", include_hidden=True, for_lms=True))


def test_results_json_is_as_documented(tanh_gate):
    """The score is the fraction of points; each test carries its points and feedback; one the assignment
    hides keeps its points but not its text, since PrairieLearn shows everything at once."""
    document = prairielearn.render(tanh_gate)
    documented(document)
    assert document["gradable"] is True
    assert document["score"] == pytest.approx(tanh_gate.score / tanh_gate.max_score) and 0 < document["score"] < 1
    assert [t["name"] for t in document["tests"]] == [t.name for t in tanh_gate.tests]
    failing = [t for t in document["tests"] if t["points"] < t["max_points"] and "lstm.forget_gate" in t["name"]]
    assert failing and any("known mistake lstm-forget-gate-tanh" in t["message"] for t in failing)
    held = [(t, r) for t, r in zip(document["tests"], tanh_gate.tests) if r.visibility != "visible"]
    assert held and all(r.feedback not in t["message"] and not t["output"] for t, r in held if r.feedback)
    assert f"{tanh_gate.score:g}/{tanh_gate.max_score:g}" in document["message"]


def test_results_json_stays_under_a_megabyte():
    """Whatever the submission prints, long texts are cut until the file fits."""
    tests = [TestResult(f"m.f: case {i}", "m.f", 0.0, 1.0, "visible", Status.FAILED, feedback="why " * 4000,
                        output="printed\n" * 5000, kind=Kind.VALUES) for i in range(300)]
    document = prairielearn.render(Results("T", "s", tests))
    documented(document)
    assert len(json.dumps(document, ensure_ascii=False).encode()) <= prairielearn.LIMIT
    assert "more characters)" in document["tests"][0]["output"]


def test_a_failure_is_not_gradable():
    """When grading cannot run, the student loses no attempt and gets no points; the reason is for staff."""
    document = prairielearn.failure("grader/config.yaml:3: secret detail")
    documented(document)
    assert document["gradable"] is False and "secret detail" not in json.dumps(document)


@pytest.fixture(scope="module")
def question(tmp_path_factory) -> Path:
    out = build_release(tmp_path_factory.mktemp("release") / "release")
    (folder,) = (out / "prairielearn" / "questions").iterdir()
    return folder


class _Uploads(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "pl-file-upload":
            self.found.append(dict(attrs))


def test_the_question_passes_prairielearns_schema(question, assignment):
    """info.json validates against PrairieLearn's own schema (vendored, source in tests/schemas) and asks for
    external grading by the entry point in tests/ (mounted at /grade/tests); question.html takes the files."""
    info = json.loads((question / "info.json").read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(info)
    assert info["gradingMethod"] == "External"
    entrypoint = info["externalGradingOptions"]["entrypoint"]
    assert entrypoint.startswith("/grade/tests/")
    assert (question / "tests" / entrypoint.removeprefix("/grade/tests/")).is_file()
    assert (question / "tests" / "assignment" / "grader" / "config.yaml").is_file()
    with pytest.raises(jsonschema.ValidationError):  # the schema is live: it refuses what PrairieLearn refuses
        jsonschema.validate({**info, "gradingMethod": "Automatic"}, schema)
    parser = _Uploads()
    parser.feed((question / "question.html").read_text())
    (upload,) = parser.found
    assert [n.strip() for n in upload["file-names"].split(",")] == [f"{m}.py" for m in assignment.contract.modules]
    image = question.parent.parent / "image"
    (wheel,) = image.glob("gatelab-*.whl")
    dockerfile = (image / "Dockerfile").read_text()
    assert f"--constraint /tmp/gatelab/constraints.txt \"/tmp/gatelab/{wheel.name}\"" in dockerfile
    assert f"COPY {wheel.name} constraints.txt /tmp/gatelab/" in dockerfile
    assert (image / "constraints.txt").read_text() == pins.constraints()  # the versions the release was tested with


def test_the_dockerfile_installs_into_a_python_without_pip_as_the_base_image_has(question, tmp_path):
    """PrairieLearn's grader-python image is a uv virtual environment (Python 3.13 at this writing) without pip:
    the Dockerfile's own RUN line, run as written in such an environment with uv on PATH, installs gatelab with
    the pinned versions and ends by running it (Docker itself is out of reach here; the registry is not)."""
    import re

    try:
        import uv as uv_package
    except ImportError:  # in the test extra: CI has it, and there a test that cannot run is a failure
        if os.environ.get("CI"):
            pytest.fail("CI must run this test, but uv (in the test extra) is not installed")
        pytest.skip("uv (in the test extra) is not installed")
    uv = uv_package.find_uv_bin()
    image = question.parent.parent / "image"
    dockerfile = (image / "Dockerfile").read_text()
    copied = re.search(r"^COPY (.+) /tmp/gatelab/$", dockerfile, re.M)
    run = re.search(r"^RUN (.*?)(?=\n[A-Z#]|\Z)", dockerfile, re.S | re.M)
    assert copied and run, dockerfile
    stage = tmp_path / "stage"
    stage.mkdir()
    for name in copied[1].split():
        shutil.copy(image / name, stage / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    assert subprocess.run([venv / "bin" / "python3", "-m", "pip", "--version"], capture_output=True).returncode != 0
    command = run[1].replace("\\\n", " ").replace("/tmp/gatelab", str(stage))
    env = {"PATH": f"{venv / 'bin'}:{Path(uv).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    for bundle in ("/etc/ssl/certs/ca-certificates.crt", os.environ.get("SSL_CERT_FILE", "")):
        if bundle and os.path.isfile(bundle):
            env["SSL_CERT_FILE"] = bundle
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("gatelab, version " + gatelab_version) and not stage.exists()
    frozen = subprocess.run([uv, "pip", "freeze", "--python", str(venv / "bin" / "python3")], capture_output=True,
                            text=True, timeout=120, env=env).stdout
    pinned = {line.split("==")[0] for line in pins.constraints().splitlines() if "==" in line}
    installed = {line.split("==")[0].lower(): line for line in frozen.splitlines() if "==" in line}
    assert all(installed[name.lower()].lower() == f"{name}=={pins.runtime_versions()[name]}".lower()
               for name in pinned), frozen


def test_the_image_is_named_in_the_course_or_the_release_says_it_is_still_to_do(assignment, make_assignment,
                                                                                 tmp_path):
    """Without prairielearn.image, info.json names a placeholder and grade release says what to do; with it,
    info.json and the Dockerfile's build line name the instructor's image, and nothing is left to do."""
    from gatelab.authoring import release as releasing
    from gatelab.course import config

    placeholder = releasing.reminders(assignment)
    assert len(placeholder) == 1 and "set prairielearn: {image: NAME:TAG} in grader/config.yaml" in placeholder[0]
    root = make_assignment(prairielearn={"image": "ada-lab/gatelab-rnn:2026.1"})
    course = config.load(root)
    assert course.prairielearn_image == "ada-lab/gatelab-rnn:2026.1" and releasing.reminders(course) == []
    out = build_release(tmp_path / "release", root)
    (question,) = (out / "prairielearn" / "questions").iterdir()
    assert json.loads((question / "info.json").read_text())["externalGradingOptions"]["image"] == \
        "ada-lab/gatelab-rnn:2026.1"
    assert "docker build -t ada-lab/gatelab-rnn:2026.1 ." in (out / "prairielearn" / "image" / "Dockerfile").read_text()


def test_the_entry_point_grades_a_submission_as_prairielearn_runs_it(question, tmp_path):
    """In a folder laid out as PrairieLearn's /grade (the question's tests/, the student's files, no results/),
    the entry point exits 0 and leaves a documented results.json with the submission's score."""
    grade = tmp_path / "grade"
    shutil.copytree(question / "tests", grade / "tests")
    gate = TANH_GATE
    write_submission(grade / "student", {"lstm": gate})
    (grade / "data").mkdir()
    (grade / "data" / "data.json").write_text("{}")
    run = subprocess.run(["bash", str(grade / "tests" / "run_autograder")], capture_output=True, text=True,
                         env={**os.environ, "GATELAB_AUTOGRADER_ROOT": str(grade), "GATELAB_PYTHON": sys.executable},
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    document = json.loads((grade / "results" / "results.json").read_text())
    documented(document)
    assert document["gradable"] is True and 0 < document["score"] < 1
    lost = [t["name"] for t in document["tests"] if t["points"] < t["max_points"] and not t["name"].startswith("quiz.")]
    assert lost and all("lstm" in name for name in lost)
    assert not [p for p in (grade / "tests").rglob("*") if p.stat().st_mode & 0o077], "the assignment is root's alone"


def test_the_entry_point_fails_where_no_results_were_written(tmp_path):
    """Without a results.json (gatelab missing), the entry point exits non-zero, so PrairieLearn reports a
    failed grading job instead of reading nothing."""
    out = tmp_path / "grade"
    (out / "tests").mkdir(parents=True)
    (out / "student").mkdir()
    from gatelab.report.render import Renderer

    (out / "tests" / "run_autograder").write_text(Renderer().render("prairielearn_entrypoint.j2"))
    run = subprocess.run(["bash", str(out / "tests" / "run_autograder")], capture_output=True, text=True,
                         env={**os.environ, "GATELAB_AUTOGRADER_ROOT": str(out), "GATELAB_PYTHON": "false"},
                         timeout=60)
    assert run.returncode != 0 and not (out / "results" / "results.json").exists()
