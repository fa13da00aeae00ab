"""Realistic student mistakes lose points exactly on the functions they affect, and keep the rest.

Each folder under tests/submissions/ is the reference with one mistake;
manifest.yaml lists the functions that must lose points and, for some, a
phrase the feedback must contain.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gatelab import grading

HERE = Path(__file__).resolve().parent / "submissions"
MANIFEST = yaml.safe_load((HERE / "manifest.yaml").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_mistake_costs_exactly_its_functions(assignment, name):
    """The functions that lose points are exactly the affected ones, and the feedback names the mistake."""
    entry = MANIFEST[name]
    results = grading.grade(assignment, HERE / name)
    lost = sorted({t.function for t in results.tests if not t.passed})
    assert lost == sorted(entry["affected"]), [(t.name, t.feedback) for t in results.tests if not t.passed]
    assert all(t.status != "error" for t in results.tests)
    feedback = "\n".join(t.feedback for t in results.tests if not t.passed)
    assert "Traceback" not in feedback
    if "says" in entry:
        assert entry["says"] in feedback


def test_at_least_ten_mistakes_are_covered():
    """The suite keeps at least ten distinct buggy submissions."""
    assert len(MANIFEST) >= 10 and all((HERE / name).is_dir() for name in MANIFEST)
