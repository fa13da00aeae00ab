"""Stub generation: solutions -> exercises."""
from __future__ import annotations

from pathlib import Path

import pytest

from gatelab import stubs
from gatelab.errors import ConfigError
from gatelab.render import Renderer

ROOT = Path(__file__).resolve().parent.parent
SOURCE = '''def f(x):
    """Doc with the equation."""
    # BEGIN SOLUTION (hint: double it)
    return 2 * x
    # END SOLUTION
'''


def test_generated_files_are_in_sync(assignment):
    """exercises/, the locked bank and the answer key are what `grade generate` makes; rerun it after edits."""
    from gatelab import generate

    assert generate.stale(assignment) == []


def test_stub_keeps_docstring_and_raises_with_hint():
    """The marked body becomes a TODO and a NotImplementedError carrying the hint."""
    text = stubs.stub_source(SOURCE, "f.py", Renderer())
    assert '"""Doc with the equation."""' in text
    assert "# TODO: double it" in text and "return 2 * x" not in text
    namespace: dict = {}
    exec(text, namespace)
    with pytest.raises(NotImplementedError, match="double it"):
        namespace["f"](1)


def test_solutions_are_valid_submissions_as_they_are():
    """Markers are plain comments: the solutions run unchanged."""
    namespace: dict = {}
    exec(SOURCE, namespace)
    assert namespace["f"](2) == 4


@pytest.mark.parametrize("text, message, line", [
    ("# BEGIN SOLUTION\nx = 1\n", "never closed", 1),
    ("x = 1\n# END SOLUTION\n", "without a BEGIN", 2),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the region", 2),
])
def test_marker_mistakes_cite_line(text, message, line):
    """Unbalanced markers are reported with file and line."""
    with pytest.raises(ConfigError, match=message) as caught:
        stubs.stub_source(text, "s.py", Renderer())
    assert f"s.py:{line}" in str(caught.value)
