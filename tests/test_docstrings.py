"""The shipped exercises' docstrings settle what students asked: time indexing, shapes, notation.

These read the shipped course (exercises/ and solutions/), and check what the docstrings claim
against what the reference computes, so a docstring cannot drift from the code it describes.
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from gatelab.grading.reference import Reference

ROOT = Path(__file__).resolve().parent.parent
GATES = ("lstm.forget_gate", "lstm.input_gate", "lstm.candidate_cell", "lstm.output_gate", "lstm.cell_state",
         "lstm.hidden_state", "gru.update_gate", "gru.reset_gate", "gru.candidate_hidden", "gru.hidden_state",
         "rnn.rnn_cell_forward")
SEQUENCES = ("rnn.rnn_forward", "lstm.lstm_forward", "gru.gru_forward")


def docstring(qualname: str) -> str:
    module, name = qualname.split(".")
    tree = ast.parse((ROOT / "exercises" / f"{module}.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.get_docstring(node) or ""


@pytest.fixture(scope="module")
def reference():
    """The shipped reference modules (imported by plain name, as students' modules import each other, and taken
    back out of sys.modules: the grader's own loader)."""
    return Reference(ROOT / "solutions", ("activations", "rnn", "lstm", "gru", "gradients")).modules


@pytest.mark.parametrize("qualname", GATES)
def test_every_equation_shows_the_lesson_notation_beside_the_code(qualname):
    """Each gate and state update writes the lesson's equation (Γ, a<t>, c<t>) next to the code's names."""
    text = docstring(qualname)
    assert "lesson:" in text and ("<t>" in text or "<t-1>" in text), text


@pytest.mark.parametrize("qualname", SEQUENCES)
def test_sequence_functions_say_exactly_which_step_each_slice_is(qualname):
    """h[:, :, t] is the state after the step that read x[:, :, t]; h0 is not part of the output."""
    text = " ".join(docstring(qualname).split())
    assert "after the step that read x[:, :, t]" in text
    assert "h0" in text and "not in" in text
    assert "h<-1>" not in text  # the index that confused a student


def test_per_example_shapes_are_stated():
    for qualname in ("rnn.rnn_cell_forward", "rnn.rnn_forward", "lstm.lstm_cell_forward", "gru.gru_cell_forward"):
        assert "For one example j" in docstring(qualname), qualname


def test_the_time_indexing_in_gradient_norms_matches_rnn_forward(reference):
    """Built exactly as the docstring says (h<t> = rnn_forward(x, h0, params)[:, :, t-1], h<0> = h0), the norms
    of the Jacobian products equal the reference's gradient_norms_through_time."""
    said = " ".join(docstring("gradients.gradient_norms_through_time").split())
    assert "rnn_forward(x, h0, params)[:, :, t-1]" in said
    rnn, gradients = reference["rnn"], reference["gradients"]
    rng = np.random.default_rng(7)
    n_x, n_h, T = 3, 4, 6
    params = {"Wh": rng.normal(0, 0.5, (n_h, n_h + n_x)), "bh": rng.normal(0, 0.1, (n_h, 1))}
    x, h0 = rng.normal(size=(n_x, 1, T)), rng.normal(size=(n_h, 1))
    run = rnn.rnn_forward(x, h0, params)
    state = {0: h0, **{t: run[:, :, t - 1] for t in range(1, T + 1)}}
    expected = []
    for k in range(T):
        product = np.eye(n_h)
        for t in range(T, k, -1):  # dh<T>/dh<k> = J(T) J(T-1) ... J(k+1)
            product = product @ gradients.rnn_step_jacobian(state[t], params)
        expected.append(np.linalg.norm(product))
    np.testing.assert_allclose(gradients.gradient_norms_through_time(x, h0, params), expected, rtol=1e-12)
