"""grader/config.yaml validation: every mistake is reported with file:line."""
from __future__ import annotations

import re

import pytest

from gatelab.course import config
from gatelab.errors import ConfigError

SMALL = "cases:\n  small: {n_x: 3, n_h: 4, m: 5, T: 6}\n"


def test_real_config_loads(assignment):
    """The shipped config loads and tests every function at least once."""
    assert assignment.tests and assignment.limits.timeout > 0


@pytest.mark.parametrize("text, message", [
    ("cases: [\n", "not valid YAML"),
    (SMALL + "tests:\n  lstm.forgetgate:\n    small:\n", "Did you mean 'lstm.forget_gate'"),
    (SMALL + "tests:\n  lstm.forget_gate:\n    smal:\n", "unknown case 'smal'"),
    (SMALL + "tests:\n  lstm.forget_gate:\n    small: {visibility: secret}\n",
     "visibility must be one of"),
    (SMALL + "tests:\n  lstm.forget_gate:\n    small: {points: -1}\n", "points must be positive"),
    ("cases:\n  small: {n_x: zero, n_h: 4, m: 5, T: 6}\n", "must be an integer"),
    ("limits: {timeout: 0}\ncases:\n  small: {n_x: 3, n_h: 4, m: 5, T: 6}\n", "limits.timeout must be positive"),
    ("cases:\n  small: {n_x: 3, m: 5}\n", "gives no value for n_h, T"),
    ("cases:\n  small: {nx: 3}\n", "Did you mean 'n_x'"),
    ("titel: x\n", "unknown key 'titel'"),
])
def test_config_errors_cite_file_and_line(make_assignment, text, message):
    """Each broken config names the problem and where it is."""
    root = make_assignment(text=text)
    with pytest.raises(ConfigError, match=message) as caught:
        config.load(root)
    assert "config.yaml:" in str(caught.value)


@pytest.mark.parametrize("value, message, below", [
    ({"image": "My Image"}, "prairielearn.image must be a Docker image name like yourname/gatelab:1.0, not 'My Image'",
     1),
    ({"imgae": "a/b"}, "unknown key 'imgae' in prairielearn. Did you mean 'image'", 1),
    ("a/b:1", "prairielearn must be a mapping", 0),
])
def test_a_bad_prairielearn_image_cites_file_and_line(make_assignment, value, message, below):
    """prairielearn.image is a Docker image name, or grading refuses the course saying where (the line of the
    entry at fault, ``below`` the line of ``prairielearn:``)."""
    root = make_assignment(prairielearn=value)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        config.load(root)
    line = next(n for n, text in enumerate((root / "grader" / "config.yaml").read_text().splitlines(), 1)
                if text.startswith("prairielearn:"))
    assert f"config.yaml:{line + below}: " in str(caught.value)


@pytest.mark.parametrize("image", ["ada/gatelab:1.0", "ghcr.io/ada-lab/gatelab-rnn:2026.1", "localhost:5000/g",
                                   "docker.io/library/python@sha256:" + "a" * 64])
def test_a_prairielearn_image_is_read(make_assignment, image):
    assert config.load(make_assignment(prairielearn={"image": image})).prairielearn_image == image


def test_untested_function_is_an_error(make_assignment):
    """Every function of the contract needs tests."""
    root = make_assignment(text=SMALL + "tests:\n  lstm.forget_gate:\n    small:\n")
    with pytest.raises(ConfigError, match="no tests for activations.sigmoid"):
        config.load(root)


def test_quiz_share_has_a_default_where_the_quiz_does_not_outweigh_the_code(assignment):
    """Without quiz.share the quiz is a quarter of the points; the code's points are those of config.yaml."""
    assert assignment.quiz_share == config.DEFAULT_QUIZ_SHARE == 0.25
    assert assignment.code_points == sum(t.points for t in assignment.tests)


@pytest.mark.parametrize("quiz, message", [
    ({"share": "0.8x"}, "quiz.share must be a number"),
    ({"share": 1.5}, "quiz.share must be a fraction between 0 and 1"),
    ({"share": 0}, "quiz.share must be a fraction between 0 and 1"),
    ({"shares": 0.2}, "Did you mean 'share'"),
])
def test_quiz_share_errors_cite_file_and_line(make_assignment, quiz, message):
    """A wrong quiz.share is reported with file and line, like every other key."""
    with pytest.raises(ConfigError, match=message) as caught:
        config.load(make_assignment(quiz=quiz))
    assert "config.yaml:" in str(caught.value)


def test_quiz_share_is_read(make_assignment):
    """quiz.share: 0.4 is read as given."""
    assert config.load(make_assignment(quiz={"share": 0.4})).quiz_share == 0.4


def test_a_case_title_names_only_the_sizes_its_function_has(assignment):
    """"small batch (n_x=3, n_h=4, m=5)" over a Jacobian of one example column says n_x and n_h only; a sigmoid
    (drawn as (n_h, m)) says n_h and m; a title with no sizes, or a function with all of them, keeps its own."""
    names = {t.name for t in assignment.tests}
    assert "gradients.rnn_step_jacobian: small batch (n_x=3, n_h=4)" in names
    assert "activations.sigmoid: small batch (n_h=4, m=5)" in names
    assert "rnn.rnn_cell_forward: small batch (n_x=3, n_h=4, m=5)" in names
    assert "rnn.rnn_cell_forward: saturated inputs (|z| up to 1000)" in names
    assert not [n for n in names if n.startswith("gradients.") and "m=" in n]
