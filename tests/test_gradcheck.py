"""The reference-free gradient check: a backward against central differences of the student's own forward."""
from __future__ import annotations

import numpy as np
from test_contract import CHOOSING, write_contract

from gatelab.grading import gradcheck


def _check(forward, backward):
    """Run the check as the judge does, with ``forward`` standing for the student's worker."""
    contract = write_contract(CHOOSING)
    fn = contract.lookup("m.backward")
    rng = np.random.default_rng(0)
    dy, x, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 3))
    args = [dy, x, {"w": w}]
    probes = gradcheck.probes(contract, fn, args, backward(dy, x, w), "seed")
    values = [(forward(*p.plus), forward(*p.minus)) for p in probes]
    return gradcheck.settle(fn, args, probes, values)


def test_a_right_backward_agrees_with_its_forward():
    check = _check(lambda x, p: np.tanh(p["w"] @ x),
                   lambda dy, x, w: {"dx": w.T @ (dy * (1 - np.tanh(w @ x) ** 2)),
                                     "dw": (dy * (1 - np.tanh(w @ x) ** 2)) @ x.T})
    assert check.consistent and sorted(check.agree) == ["dw", "dx"]


def test_a_wrong_gradient_is_named_with_its_error():
    check = _check(lambda x, p: p["w"] @ x, lambda dy, x, w: {"dx": w.T @ dy, "dw": dy @ x.T * 1.001})
    assert check.agree == ["dx"] and [key for key, _ in check.disagree] == ["dw"]
    assert 1e-4 < check.disagree[0][1] < 1e-2  # a 0.1% error is caught: the check allows 1e-6


def test_a_constant_forward_and_zero_gradients_prove_nothing():
    """Zero gradients of a forward that ignores its inputs agree, but the check calls them flat: no credit."""
    check = _check(lambda x, p: np.zeros((3, 4)), lambda dy, x, w: {"dx": np.zeros((3, 4)), "dw": np.zeros((3, 3))})
    assert not check.consistent and sorted(check.flat) == ["dw", "dx"]


def test_missing_or_misshapen_gradients_are_left_to_the_values_check():
    check = _check(lambda x, p: p["w"] @ x, lambda dy, x, w: {"dx": np.zeros((4, 3))})
    assert check.agree == [] and check.disagree == [] and not check.consistent


def test_a_forward_that_returns_nothing_useful_is_said_so():
    check = _check(lambda x, p: "no array", lambda dy, x, w: {"dx": w.T @ dy, "dw": dy @ x.T})
    assert "returned no result of the shape the check needs" in check.failed
