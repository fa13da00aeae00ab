"""grader/config.yaml validation: every mistake is reported with file:line."""
from __future__ import annotations

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


def test_untested_function_is_an_error(make_assignment):
    """Every function of the contract needs tests."""
    root = make_assignment(text=SMALL + "tests:\n  lstm.forget_gate:\n    small:\n")
    with pytest.raises(ConfigError, match="no tests for activations.sigmoid"):
        config.load(root)
