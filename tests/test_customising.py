"""An instructor who customises the shipped course keeps a green test run.

The project's tests grade their own frozen copy of the course (tests/fixtures/rnn);
only test_contract.py (what the curriculum fixes: names, arguments, shapes), test_docstrings.py
test_quiz.py (what the shipped docstrings and bank must say), test_backward.py (the lessons' claims about
gradients, on the shipped reference) and test_schemas.py (its YAML files meet their schemas) read the shipped one.
`grade audit` checks the shipped course in CI.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = re.compile(r'ROOT\s*/\s*"(grader|solutions|exercises)"|load\(ROOT\)|"--assignment",\s*str\(ROOT\)')
READS_SHIPPED = {  # what the shipped course must say, whoever edits its wording
    "test_contract.py",  # the curriculum's names, arguments and shapes, which instructors keep
    "test_docstrings.py",  # the exercises' docstrings agree with the reference (time indexing, notation)
    "test_quiz.py",  # the shipped bank gives nothing away by length and passes grade validate
    "test_backward.py",  # the reference's backward passes, gradient flow and training outcome: the lessons' claims
    "test_schemas.py",  # every shipped YAML file meets its JSON Schema and names it on its first line
}
EDITS = {  # file of the shipped course -> (text, replacement): a hint, feedback, a range hint, points, a prompt
    "solutions/lstm.py": ("(hint: stack h_prev above x_t, apply Wf and bf, squash with sigmoid)",
                          "(hint: concatenate, multiply, add the bias, then the sigmoid)"),
    "grader/mistakes/lstm.yaml": ("Your forget gate uses tanh: a gate must squash",
                                  "Your forget gate squashes with tanh; a gate must squash"),
    "grader/contract.yaml": ('tanh never leaves [-1, 1]: is the tanh missing?', 'Did you forget the tanh?'),
    "grader/config.yaml": ("    saturated: {points: 2, visibility: visible}",
                           "    saturated: {points: 3, visibility: visible}"),
    "grader/quiz/lstm.yaml": ("At one step an LSTM unit has f = 0", "At one step, an LSTM unit has f = 0"),
}


def test_only_the_curriculum_test_reads_the_shipped_course():
    """Every other test grades tests/fixtures/rnn, so editing the shipped course cannot break it."""
    readers = {path.name for path in (ROOT / "tests").glob("*.py") if SHIPPED.search(path.read_text())}
    assert readers <= READS_SHIPPED | {Path(__file__).name}


def test_editing_the_shipped_course_keeps_the_tests_green(tmp_path):
    """In a copy of the repository whose shipped course has a new hint, new feedback, new points and a new
    prompt (exercises regenerated), the tests that read the shipped course and the CLI still pass."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build",
                                                              ".pytest_cache", "release"))
    for name, (old, new) in EDITS.items():
        path = copy / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new))
    env = dict(os.environ, PYTHONPATH=str(copy / "src"))
    generated = subprocess.run([sys.executable, "-m", "gatelab", "generate", "--assignment", str(copy)],
                               capture_output=True, text=True, env=env)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "concatenate, multiply, add the bias" in (copy / "exercises" / "lstm.py").read_text()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                          "tests/test_contract.py", "tests/test_docstrings.py", "tests/test_cli.py",
                          "tests/test_grading.py",
                          "tests/test_instructor_tests.py", "tests/test_backward.py"],
                         cwd=copy, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
