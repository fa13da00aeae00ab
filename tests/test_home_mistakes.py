"""The corpus of mistakes students make at home (tests/home_mistakes.yaml), graded twice: by the student
release's own check, which holds no reference, and by the grader. Each must lose points exactly on its affected
functions, be named alike on both sides, and score the same on every public test: home and grading agree.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import build_release, write_submission
from gatelab import grading
from gatelab.course import config

CORPUS = yaml.safe_load((Path(__file__).resolve().parent / "home_mistakes.yaml").read_text())


def changes(entry: dict) -> dict:
    """The entry's edits, as write_submission takes them: one (replace, with) pair or a list of them."""
    if "changes" in entry:
        return {entry["module"]: [(c["replace"], c["with"]) for c in entry["changes"]]}
    return {entry["module"]: (entry["replace"], entry["with"])}


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> config.Assignment:
    """The student's copy of the course, as the release hands it out: public tests and recorded answers."""
    return config.load(build_release(tmp_path_factory.mktemp("release")) / "student")


def _feedback(results) -> str:
    """Everything the student reads about the code: failures, and the notes on passing tests ("fix X first")."""
    return "\n".join(t.feedback for t in results.tests if t.feedback)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_named_alike_at_home_and_at_grading(assignment, home, tmp_path, name):
    """The grader's verdict on the affected functions, the same points for every public test at home, and each
    side's feedback holding what it must say (and never a wrong cause)."""
    entry = CORPUS[name]
    folder = write_submission(tmp_path / "submission", changes(entry))
    graded = grading.grade(assignment, folder, grading.Request(quiz="none"))
    at_home = grading.grade(home, folder, grading.Request(quiz="none"))
    lost = sorted({t.function for t in graded.tests if not t.passed})
    assert lost == sorted(entry["affected"]), [(t.name, t.feedback) for t in graded.tests if not t.passed]
    public = {t.name: t.score for t in graded.tests if t.visibility == "visible"}
    home_scores = {t.name: t.score for t in at_home.tests if t.name in public}
    assert set(home_scores) == set(public), "every public test runs at home"
    assert home_scores == public, [(t.name, t.feedback) for t in at_home.tests
                                   if t.name in public and t.score != public[t.name]]
    for side, results, key in (("grading", graded, "grading_says"), ("home", at_home, "home_says")):
        said = _feedback(results)
        assert "Traceback" not in said, side
        for phrase in [entry[k] for k in ("says", key) if k in entry]:
            assert phrase in said, (side, phrase, said)
        if "never" in entry:
            assert entry["never"] not in said, (side, said)
