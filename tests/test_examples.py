"""The engine grades a second assignment, examples/attention, with no line of src/gatelab written for it."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatelab import grading
from gatelab.cli import main
from gatelab.course import config

ROOT = Path(__file__).resolve().parent.parent
ATTENTION = ROOT / "examples" / "attention"


@pytest.fixture(scope="module")
def attention() -> config.Assignment:
    return config.load(ATTENTION)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_reference_gets_full_marks_through_the_cli():
    """`grade check --all --assignment examples/attention` on its solutions: every test and question passes."""
    result = run("check", "--all", "--strict", "--assignment", str(ATTENTION), "--submission",
                 str(ATTENTION / "solutions"))
    assert result.exit_code == 0, result.output
    assert re.search(r"Score: (\d+)/\1\n", result.output)


def test_stubs_get_zero_and_say_what_to_do():
    """Its generated exercises score 0, each function saying it is not implemented, with its hint."""
    result = run("check", "--assignment", str(ATTENTION))
    assert result.exit_code == 0 and "Score: 0/" in result.output
    assert "attention.masked_softmax is not implemented yet: leave masked keys out" in result.output


def test_a_planted_mistake_is_caught_and_named(attention, tmp_path):
    """Scores without the division by sqrt(d_k) lose attention_scores' points only and are named."""
    shutil.copy(ATTENTION / "solutions" / "attention.py", tmp_path / "attention.py")
    path = tmp_path / "attention.py"
    path.write_text(path.read_text().replace("    return Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)\n",
                                             "    return Q @ np.swapaxes(K, -1, -2)\n"))
    results = grading.grade(attention, tmp_path, grading.Request(quiz="none"))
    lost = {t.function for t in results.tests if not t.passed}
    assert lost == {"attention.attention_scores"}
    named = {m for t in results.tests for m in t.mistakes}
    assert named == {"attention-scores-unscaled"}
    composite = [t for t in results.tests if t.function == "attention.scaled_dot_product_attention"]
    assert all(t.passed for t in composite) and "fix attention.attention_scores first" in composite[0].feedback


def test_its_own_dimensions_name_the_axes(attention, tmp_path):
    """Feedback names the example's axes from its contract: query positions, key features..."""
    shutil.copy(ATTENTION / "solutions" / "attention.py", tmp_path / "attention.py")
    path = tmp_path / "attention.py"
    path.write_text(path.read_text().replace("    return weights @ V, weights\n",
                                             "    out = weights @ V\n    out[:, 1:, 0] += 1.0\n"
                                             "    return out, weights\n"))
    results = grading.grade(attention, tmp_path,
                            grading.Request(target="attention.scaled_dot_product_attention", quiz="none"))
    feedback = next(t.feedback for t in results.tests if not t.passed)
    assert "query positions 1, 2 of 3" in feedback and "value features 0 of 6" in feedback
