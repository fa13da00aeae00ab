"""``grade release``: what an instructor hands out, built from the assignment.

- ``student/`` and ``student.zip``: the exercises, the locked question bank,
  a student README, a notebook that checks from Jupyter (``check.ipynb``),
  the gatelab wheel, and a grader folder that holds only public tests and,
  recorded as data, what ``grade check`` needs for them: the public cases'
  inputs, right results and the catalog's results. No reference code, no
  hidden case, no answer key.
- ``gradescope/autograder.zip``: ``setup.sh`` and ``run_autograder`` at its
  root, the wheel, ``constraints.txt`` (the dependency versions it was built
  with), and the whole assignment (hidden tests and reference).
- ``github-classroom/``: a starter repository (the student release and a
  workflow that grades with ``--format github``).
- ``gitlab/.gitlab-ci.yml``: a CI job that reports JUnit to GitLab.
- ``prairielearn/``: a question for a PrairieLearn course (``questions/<name>/``:
  ``info.json`` for external grading, ``question.html``, and in ``tests/`` the
  entry point and the whole assignment) and ``image/``, the grading image's
  Dockerfile with the wheel.

Every zip is reproducible: the same assignment gives byte-identical files. The release is written in a
temporary folder beside ``out`` and swapped in whole; ``grade release`` audits the course first and keeps the
audit's report as ``audit.txt``.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from gatelab import archive
from gatelab.authoring import generate, notebook, pins
from gatelab.course.config import ASPECTS, VALUES, Assignment
from gatelab.course.packing import assignment_entries
from gatelab.errors import ConfigError
from gatelab.report.render import Renderer
from gatelab.version import __version__

STUDENT, GRADESCOPE, CLASSROOM, GITLAB = "student", "gradescope", "github-classroom", "gitlab"
PRAIRIELEARN = "prairielearn"
IMAGE_PLACEHOLDER = "your-dockerhub-name/gatelab"  # the image info.json names until config.yaml names one
AUDIT = "audit.txt"  # the audit this release passed (or was forced past)
FORCED = "RELEASED WITH --force DESPITE THE HOLES BELOW: the grader may miss or misreport these.\n\n"


def _public_config(assignment: Assignment) -> dict[str, Any]:
    """The student's config.yaml: the public tests only, the rest counted as withheld."""
    public = [s for s in assignment.tests if s.visibility == "visible"]
    withheld = [s for s in assignment.tests if s.visibility != "visible" and s.aspect == VALUES]
    cases = {s.case.name: s.case for s in public if s.aspect == VALUES}
    tests: dict[str, dict[str, Any]] = {}
    for spec in assignment.tests:
        entry = tests.setdefault(spec.function.qualname, {})
        if spec.aspect == VALUES and spec.case.name in cases and spec.visibility == "visible":
            entry[spec.case.name] = {"points": spec.points, "visibility": "visible"}
        elif spec.aspect != VALUES:  # every aspect: a local check judges it on the public cases
            entry[spec.aspect] = {"points": spec.points, "visibility": spec.visibility}
    for qualname, entry in tests.items():
        if not any(key not in ASPECTS for key in entry):
            raise ConfigError(f"{qualname} has no visible case, so a student's check could not test it: make one "
                              "of its cases visible in grader/config.yaml")
    return {
        "title": assignment.title, "exercises": "../exercises", "solutions": "../solutions",
        "limits": {k: getattr(assignment.limits, k) for k in ("timeout", "memory_mb", "output_chars", "output_mb",
                                                             "strikes", "budget")},
        "cases": {name: {**dict(case.values), **({"title": case.title} if case.title else {})}
                  for name, case in cases.items()},
        "aspects": {aspect: False for aspect in ASPECTS},
        "tests": tests,
        "quiz": {"feedback": assignment.quiz.now, "explanations": assignment.quiz.later},
        "checksum": assignment.checksum,
        "recorded": "recorded.bin",
        "withheld": {qualname: {"tests": sum(1 for s in withheld if s.function.qualname == qualname),
                                "points": sum(s.points for s in withheld if s.function.qualname == qualname)}
                     for qualname in dict.fromkeys(s.function.qualname for s in withheld)},
    }


def _copy(source: Path, target: Path, pattern: str = "*") -> None:
    for path in sorted(source.glob(pattern)) if source.is_dir() else []:
        if path.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / path.name)


def _own_test_calls(assignment: Assignment, oracle: Any, renderer: Renderer) -> list[dict[str, Any]]:
    """The calls the reference's composites make to their parts in the instructor's own public tests: the
    reference graded as a submission on the public tests, every part the grader serves it heard."""
    from gatelab.grading.oracle import Listening
    from gatelab.grading.run import Request, Warm, grade
    from gatelab.grading.session import Resident

    listening = Listening(oracle)
    with tempfile.TemporaryDirectory(prefix="gatelab-reference-") as scratch:
        submission = Path(scratch) / "reference"
        shutil.copytree(assignment.solutions, submission, ignore=shutil.ignore_patterns("__pycache__", "*.yaml"))
        warm = Warm(listening, [], renderer, Resident(assignment, renderer), None)
        try:
            grade(assignment, submission, Request(include_hidden=False, quiz="none"), renderer=renderer, warm=warm)
        finally:
            warm.close()
    return listening.heard


def _student(assignment: Assignment, folder: Path, wheel: Path, renderer: Renderer) -> None:
    """The student's folder: exercises, a grader with public tests and recorded answers, README, wheel."""
    from gatelab.course import catalog
    from gatelab.grading.oracle import RECORDING, LiveOracle, record
    from gatelab.grading.reference import Reference
    from gatelab.report.seen import SEEN_NAME

    _copy(assignment.exercises, folder / "exercises")
    (folder / "exercises" / "answers.yaml").unlink(missing_ok=True)
    grader = folder / "grader"
    _copy(assignment.grader, grader, "contract.yaml")
    _copy(assignment.grader / "tests", grader / "tests", "*.py")
    _copy(assignment.grader / "mistakes", grader / "mistakes", "*.yaml")  # entries only; their formulas stay
    _copy(assignment.grader / "templates", grader / "templates")
    _copy(assignment.grader / "schemas", grader / "schemas", "*.json")  # where contract.yaml's first line points
    config = _public_config(assignment)
    (grader / "config.yaml").write_text("# The public tests of this assignment; the rest run at grading.\n"
                                        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    oracle = LiveOracle(assignment, Reference(assignment.solutions, assignment.contract.modules),
                        lambda: catalog.load(assignment.grader / "mistakes", assignment.contract))
    pairs = [(s.function.qualname, s.case) for s in assignment.tests if s.aspect == VALUES
             and s.visibility == "visible"]
    (grader / RECORDING).write_bytes(record(oracle, pairs, _own_test_calls(assignment, oracle, renderer)))
    (folder / "wheels").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(wheel, folder / "wheels" / wheel.name)
    withheld = sum(entry["tests"] for entry in config["withheld"].values())
    (folder / "README.md").write_text(renderer.render(
        "student_readme.md.j2", title=assignment.title, wheel=wheel.name, version=__version__,
        modules=assignment.contract.modules, public=len(pairs), withheld=withheld,
        has_quiz=(folder / "exercises" / "quiz.lock.yaml").is_file()))
    notebook.write(assignment, folder, wheel.name, renderer)
    (folder / ".gitignore").write_text("# What grade check writes on your machine: not part of your work.\n"
                                       f"__pycache__/\n{SEEN_NAME}\n", encoding="utf-8")


def _gradescope(assignment: Assignment, target: Path, wheel: Path, renderer: Renderer) -> Path:
    """autograder.zip: setup.sh and run_autograder at the root, the wheel, the whole assignment."""
    entries = {"setup.sh": renderer.render("setup.sh.j2", wheel=wheel.name, python=pins.tested_python(),
                                             requires_python=pins.REQUIRES_PYTHON).encode(),
               "run_autograder": renderer.render("run_autograder.j2").encode(),
               pins.CONSTRAINTS: pins.constraints().encode(),
               f"wheels/{wheel.name}": wheel.read_bytes()}
    entries.update(assignment_entries(assignment, "assignment/"))
    return archive.write_zip(entries, target, executable=frozenset({"setup.sh", "run_autograder"}))


def _prairielearn(assignment: Assignment, target: Path, wheel: Path, renderer: Renderer) -> Path:
    """A PrairieLearn question graded externally by ``grade autograde --format prairielearn``, and the
    grading image's Dockerfile; its uuid follows the title, so a new release updates the same question."""
    import json
    import re
    import uuid

    name = re.sub(r"[^a-z0-9]+", "-", assignment.title.lower()).strip("-") or "assignment"
    question = target / "questions" / name
    tests = question / "tests"
    for entry, data in assignment_entries(assignment, "assignment/").items():
        (tests / entry).parent.mkdir(parents=True, exist_ok=True)
        (tests / entry).write_bytes(data)
    entrypoint = tests / "run_autograder"
    entrypoint.write_text(renderer.render("prairielearn_entrypoint.j2"))
    entrypoint.chmod(0o755)
    info = {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"gatelab:{assignment.title}")), "type": "v3",
            "title": assignment.title, "topic": assignment.title, "tags": ["gatelab"], "singleVariant": True,
            "gradingMethod": "External",
            "externalGradingOptions": {"image": prairielearn_image(assignment),
                                       "entrypoint": "/grade/tests/run_autograder", "timeout": 120}}
    (question / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    files = [f"{module}.py" for module in assignment.contract.modules]
    optional = ["answers.yaml"] if (assignment.exercises / "quiz.lock.yaml").is_file() else []
    (question / "question.html").write_text(renderer.render(
        "prairielearn_question.html.j2", title=assignment.title, files=files, optional=optional))
    image = target / "image"
    image.mkdir(parents=True)
    shutil.copyfile(wheel, image / wheel.name)
    (image / pins.CONSTRAINTS).write_text(pins.constraints())
    (image / "Dockerfile").write_text(renderer.render("prairielearn_dockerfile.j2", wheel=wheel.name,
                                                      image=prairielearn_image(assignment)))
    return target


def prairielearn_image(assignment: Assignment) -> str:
    """The grading image the PrairieLearn question names: ``prairielearn.image`` in config.yaml, else a
    placeholder for the instructor's own Docker Hub name (see :func:`reminders`)."""
    return assignment.prairielearn_image or f"{IMAGE_PLACEHOLDER}:{__version__}"


def reminders(assignment: Assignment) -> list[str]:
    """What the instructor must still do before a part of the release can be used as it is."""
    if assignment.prairielearn_image:
        return []
    return [f"{PRAIRIELEARN}/: info.json names the image {prairielearn_image(assignment)}, a placeholder: build "
            f"{PRAIRIELEARN}/image/ and push it to Docker Hub, then set prairielearn: {{image: NAME:TAG}} in "
            "grader/config.yaml and release again"]


def require_fresh(assignment: Assignment) -> None:
    """Refuse to release exercises that are out of date with the solutions."""
    stale = generate.stale(assignment)
    if stale:
        raise ConfigError(f"{stale[0]} is out of date with the solutions: run grade generate first")


def build(assignment: Assignment, out: Path, renderer: Renderer, audit: str = "", forced: bool = False) -> list[Path]:
    """Build every part of the release and put it in ``out`` only once all of it is written: a build that
    fails midway leaves ``out`` (the last good release) as it was. ``audit``, the audit's report, is kept
    as ``audit.txt``, headed by a warning when ``forced`` (released despite holes). Returns what it wrote."""
    require_fresh(assignment)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        written = _write(assignment, partial, renderer)
        if audit:
            (partial / AUDIT).write_text((FORCED if forced else "") + audit, encoding="utf-8")
            written.append(partial / AUDIT)
        _swap_in(partial, out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return [out / path.relative_to(partial) for path in written]


def _swap_in(partial: Path, out: Path) -> None:
    """Replace ``out`` by ``partial`` with renames in one folder, so no reader sees a half-written release."""
    old = out.parent / f".{out.name}.old-{partial.name.rsplit('-', 1)[-1]}"
    if out.exists():
        out.rename(old)
    try:
        partial.rename(out)
    except OSError:
        if old.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write(assignment: Assignment, out: Path, renderer: Renderer) -> list[Path]:
    """Every part of the release, written in the empty folder ``out``."""
    wheel = archive.build_wheel(out / "wheels")
    student = out / STUDENT
    _student(assignment, student, wheel, renderer)
    student_zip = archive.write_zip(archive.folder_entries(student), out / f"{STUDENT}.zip")
    autograder = _gradescope(assignment, out / GRADESCOPE / "autograder.zip", wheel, renderer)
    classroom = out / CLASSROOM
    shutil.copytree(student, classroom)
    workflow = classroom / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(renderer.render("classroom.yml.j2", wheel=wheel.name))
    gitlab = out / GITLAB / ".gitlab-ci.yml"
    gitlab.parent.mkdir(parents=True)
    gitlab.write_text(renderer.render("gitlab-ci.yml.j2", wheel=wheel.name))
    prairielearn = _prairielearn(assignment, out / PRAIRIELEARN, wheel, renderer)
    shutil.rmtree(out / "wheels")
    return [student, student_zip, autograder, classroom, gitlab, prairielearn]
