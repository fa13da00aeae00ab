"""Realistic student mistakes lose points exactly on the functions they affect, and keep the rest.

Each entry of tests/mistakes.yaml is the reference with one mistake; it
lists the functions that must lose points and, for some, a phrase the
feedback must contain.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import write_submission
from gatelab import grading

MANIFEST = yaml.safe_load((Path(__file__).resolve().parent / "mistakes.yaml").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_mistake_costs_exactly_its_functions(assignment, tmp_path, name):
    """The functions that lose points are exactly the affected ones, and the feedback names the mistake."""
    entry = MANIFEST[name]
    folder = write_submission(tmp_path, {entry["module"]: (entry["replace"], entry["with"])})
    results = grading.grade(assignment, folder, grading.Request(quiz="none"))
    lost = sorted({t.function for t in results.tests if not t.passed})
    assert lost == sorted(entry["affected"]), [(t.name, t.feedback) for t in results.tests if not t.passed]
    assert all(t.status != "error" for t in results.tests)
    feedback = "\n".join(t.feedback for t in results.tests if not t.passed)
    assert "Traceback" not in feedback
    if "says" in entry:
        assert entry["says"] in feedback
    if "lost" in entry:
        assert sorted({t.case for t in results.tests if not t.passed}) == sorted(entry["lost"])


def test_at_least_ten_mistakes_are_covered():
    """The suite keeps at least ten distinct buggy submissions."""
    assert len(MANIFEST) >= 10
