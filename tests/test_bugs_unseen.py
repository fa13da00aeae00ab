"""Bugs the catalog was not written from are named, each with its own mistake and no other.

Each entry of tests/bugs_unseen.yaml is the reference with one realistic bug,
written for the mistake families before checking which ones the catalog names.
It lists the functions that must lose points and either the catalog mistake
the feedback must name (and no other mistake) or a phrase it must hold.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import write_submission
from gatelab import grading

MANIFEST = yaml.safe_load((Path(__file__).resolve().parent / "bugs_unseen.yaml").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_unseen_bug_is_named_with_its_mistake(assignment, tmp_path, name):
    """The bug costs exactly its functions, and the feedback names exactly its mistake."""
    entry = MANIFEST[name]
    folder = write_submission(tmp_path, {entry["module"]: (entry["replace"], entry["with"])})
    results = grading.grade(assignment, folder, grading.Request(quiz="none"))
    failed = [t for t in results.tests if not t.passed]
    assert sorted({t.function for t in failed}) == sorted(entry["affected"]), [(t.name, t.feedback) for t in failed]
    named = sorted({m for t in failed for m in t.mistakes})
    if "named" in entry:
        assert named == [entry["named"]], [(t.name, t.feedback) for t in failed]
    else:
        assert named == [] and entry["says"] in "\n".join(t.feedback for t in failed)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_unseen_bug_is_well_formed(name):
    """Each entry says what the bug is, where, and what must be named or said."""
    entry = MANIFEST[name]
    assert set(entry) <= {"bug", "module", "replace", "with", "affected", "named", "says"}, sorted(entry)
    assert entry["bug"].strip() and entry["affected"] and ("named" in entry) != ("says" in entry)


def test_the_unseen_set_is_large():
    """At least 25 bugs, across every module of the course."""
    assert len(MANIFEST) >= 25
    assert {e["module"] for e in MANIFEST.values()} == {"activations", "rnn", "lstm", "gru", "gradients"}
