"""No false alarms: correct code written differently gets full marks.

Each entry of tests/variants.yaml is the reference rewritten in another
correct way (other numpy spellings, loops, inlined composites, other
association orders...), possibly across several functions and modules.
Every one must pass every test, hidden ones included. An entry with
``xfail_reason`` is a known grader false alarm: it is expected to fail
(strictly, so the entry must be cleared once the grader is fixed).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import COURSE, write_submission
from gatelab import grading

MANIFEST = yaml.safe_load((Path(__file__).resolve().parent / "variants.yaml").read_text())


def _param(name: str) -> pytest.param:
    reason = MANIFEST[name].get("xfail_reason")
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(name, marks=marks, id=name)


def _changes(entry: dict) -> dict[str, list[tuple[str, str]]]:
    return {module: [(c["replace"], c["with"]) for c in edits] for module, edits in entry["changes"].items()}


@pytest.fixture(scope="module")
def full_marks(assignment) -> float:
    return grading.grade(assignment, COURSE / "solutions", grading.Request(quiz="none")).max_score


@pytest.mark.parametrize("name", [_param(name) for name in sorted(MANIFEST)])
def test_variant_gets_full_marks(assignment, full_marks, tmp_path, name):
    """A correct rewrite passes every test, and the grader never fails on it."""
    folder = write_submission(tmp_path, _changes(MANIFEST[name]))
    results = grading.grade(assignment, folder, grading.Request(quiz="none"))
    failing = [(t.name, t.status, t.feedback) for t in results.tests if not t.passed]
    assert failing == []
    assert results.score == results.max_score == full_marks


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_variant_is_well_formed(name):
    """Each entry says why it is correct, and every change really changes the code."""
    entry = MANIFEST[name]
    assert set(entry) <= {"why", "changes", "xfail_reason"}, sorted(entry)
    assert entry["why"].strip()
    assert entry["changes"]
    for module, edits in entry["changes"].items():
        assert edits, module
        for edit in edits:
            assert set(edit) == {"replace", "with"}, sorted(edit)
            assert edit["replace"] != edit["with"], (module, edit["replace"])
            assert "SOLUTION" not in edit["replace"] + edit["with"]


def test_at_least_eighteen_variants_are_covered():
    """The suite keeps at least eighteen distinct correct rewrites."""
    assert len(MANIFEST) >= 18
