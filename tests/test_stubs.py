"""Stub generation: solutions -> exercises."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import COURSE
from gatelab.authoring import stubs
from gatelab.errors import ConfigError
from gatelab.report.render import Renderer

ROOT = Path(__file__).resolve().parent.parent
SOURCE = '''def f(x):
    """Doc with the equation."""
    # BEGIN SOLUTION (hint: double it)
    return 2 * x
    # END SOLUTION
'''


def test_generated_files_are_in_sync(assignment):
    """exercises/, the locked bank and the answer key are what `grade generate` makes; rerun it after edits."""
    from gatelab.authoring import generate

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


def _copy_of_assignment(tmp_path: Path) -> Path:
    import shutil

    for name in ("grader", "solutions", "exercises"):
        shutil.copytree(COURSE / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.mark.parametrize("old, new, says", [
    ("    # BEGIN SOLUTION (hint: np.tanh, squared, subtracted from 1)\n", "    # Begin Solution\n",
     "looks like a solution marker"),
    ("    # END SOLUTION\n\n\ndef tanh_derivative", "    # END SOLUTON\n\n\ndef tanh_derivative",
     "looks like a solution marker"),
    ("    # BEGIN SOLUTION (hint: np.tanh, squared, subtracted from 1)\n    return 1.0 - np.tanh(z) ** 2\n"
     "    # END SOLUTION\n", "    return 1.0 - np.tanh(z) ** 2\n",
     "tanh_derivative() has no '# BEGIN SOLUTION' region"),
])
def test_generate_refuses_to_publish_a_solution(tmp_path, old, new, says):
    """A misspelt, broken or deleted marker stops `grade generate` with exit 3 and file:line, and nothing of
    the reference reaches exercises/."""
    from click.testing import CliRunner

    from gatelab.cli import main

    root = _copy_of_assignment(tmp_path)
    path = root / "solutions" / "activations.py"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    before = (root / "exercises" / "activations.py").read_text()
    result = CliRunner().invoke(main, ["generate", "--assignment", str(root)])
    assert result.exit_code == 3, result.output
    assert says in result.output and "activations.py:" in result.output
    assert (root / "exercises" / "activations.py").read_text() == before


def test_a_question_template_that_fails_is_exit_3_with_its_place(tmp_path):
    """A question whose template fails for some student stops `grade generate` with exit 3 and file:line."""
    from click.testing import CliRunner

    from gatelab.cli import main

    root = _copy_of_assignment(tmp_path)
    (root / "grader" / "quiz" / "zz.yaml").write_text(
        "- id: broken-template\n  type: numeric\n  prompt: 'n = {{ n }}'\n  explanation: e\n"
        "  variables: {n: [0, 1]}\n  answer: '{{ 1 / n }}'\n")
    result = CliRunner().invoke(main, ["generate", "--assignment", str(root)])
    assert result.exit_code == 3, result.output
    assert "zz.yaml:1" in result.output and "broken-template" in result.output
    assert "internal error" not in result.output
