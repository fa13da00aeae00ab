"""Instructors' own tests: properties of the student's functions, beyond the reference on the cases.

Each test calls the student's functions through the ``student`` fixture (the calls run in the
sandbox, never in the grader's process), compares with ``close`` (the judge's tolerance and
words), and carries points and visibility like any test.
"""
import numpy as np
import pytest


@pytest.mark.grades("lstm.forget_gate")
@pytest.mark.points(2)
@pytest.mark.visibility("visible")
def test_forget_gate_follows_its_bias(student, close):
    """With Wf = 0 the forget gate follows its bias: bf = +10 keeps the memory (f about 1), bf = -10 erases it."""
    n_h, n_x, m = 4, 3, 5
    rng = np.random.default_rng(0)
    x_t, h_prev = rng.normal(size=(n_x, m)), np.tanh(rng.normal(size=(n_h, m)))
    params = {key: np.zeros((n_h, n_h + n_x)) if key.startswith("W") else np.zeros((n_h, 1))
              for key in ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")}
    params["bf"] = np.full((n_h, 1), 10.0)
    close(student.lstm.forget_gate(x_t, h_prev, params), np.ones((n_h, m)), what="f with bf = +10", atol=1e-4)
    params["bf"] = np.full((n_h, 1), -10.0)
    close(student.lstm.forget_gate(x_t, h_prev, params), np.zeros((n_h, m)), what="f with bf = -10", atol=1e-4)
