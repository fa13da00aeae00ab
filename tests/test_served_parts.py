"""Served parts: the grader computes a part only on arguments of the contract's shapes for the case."""
from __future__ import annotations

import numpy as np

from gatelab.grading import cases


def _args(assignment, qualname: str, case: str) -> list:
    contract = assignment.contract
    return cases.make_args(contract, contract.lookup(qualname), assignment.cases[case], assignment.seed)


def test_the_arguments_a_case_draws_are_served(assignment):
    """Every part, on the inputs drawn for it on every case, is served."""
    contract = assignment.contract
    for fn in contract.functions:
        for case in assignment.cases.values():
            args = cases.make_args(contract, fn, case, assignment.seed)
            assert cases.refusal(contract, fn, args, dict(case.values)) is None, (fn.qualname, case.name)


def test_a_smaller_consistent_call_is_served(assignment):
    """gradient_norms_through_time calls rnn_cell_forward on one example (m = 1) of a case with m = 5."""
    contract, small = assignment.contract, assignment.cases["small"]
    x_t, h_prev, params = _args(assignment, "rnn.rnn_cell_forward", "small")
    args = [x_t[:, :1], h_prev[:, :1], params]
    assert cases.refusal(contract, contract.lookup("rnn.rnn_cell_forward"), args, dict(small.values)) is None


def test_a_broadcast_request_is_refused_and_says_where(assignment):
    """A tall and a wide argument that would broadcast into a huge array are refused, naming the argument,
    its shape and the contract's."""
    contract, small = assignment.contract, assignment.cases["small"]
    tall, wide = np.ones((16384, 1)), np.ones((1, 2048))
    why = cases.refusal(contract, contract.lookup("lstm.cell_state"), [tall, wide, tall, wide], dict(small.values))
    assert why == ("asked for lstm.cell_state with an argument c_prev of shape (16384, 1) where the contract "
                   "says (n_h, m): (1, 1) with its other arguments, at most (4, 5) on this case")


def test_dimensions_must_agree_across_arguments(assignment):
    """x_t with m = 1 and h_prev with m = 5 disagree on m: refused; so is a dict entry of the wrong shape, a
    number where an array belongs, and more arguments than the contract has."""
    contract, small = assignment.contract, assignment.cases["small"]
    gate = contract.lookup("lstm.forget_gate")
    x_t, h_prev, params = _args(assignment, "lstm.forget_gate", "small")
    values = dict(small.values)
    assert "argument h_prev of shape (4, 5)" in cases.refusal(contract, gate, [x_t[:, :1], h_prev, params], values)
    wrong = {**params, "bf": np.ones((4, 5))}
    assert "argument params['bf'] of shape (4, 5)" in cases.refusal(contract, gate, [x_t, h_prev, wrong], values)
    assert "argument x_t of shape ()" in cases.refusal(contract, gate, [1.0, h_prev, params], values)
    assert "with 4 arguments" in cases.refusal(contract, gate, [x_t, h_prev, params, 1], values)
    assert "not a dict of arrays" in cases.refusal(contract, gate, [x_t, h_prev, [1]], values)


def test_an_instructors_call_reads_its_dimensions_from_the_composites_arguments(assignment):
    """Outside a case (an instructor's own test), the composite's own arguments give the dimensions."""
    contract = assignment.contract
    args = [np.ones((7, 3)), np.ones((9, 3)), np.ones((9, 3)),
            {k: np.ones((9, 16) if k.startswith("W") else (9, 1)) for k in
             ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")}]
    dims = cases.dimensions_of(contract, contract.lookup("lstm.lstm_cell_forward"), args)
    assert dims == {"n_x": 7, "m": 3, "n_h": 9, "scale": 1.0}
    assert cases.refusal(contract, contract.lookup("lstm.forget_gate"), [args[0], args[1], args[3]], dims) is None


def _recorded_oracle(tmp_path, records: dict):
    from gatelab.grading import oracle, wire

    path = tmp_path / "recorded.bin"
    path.write_bytes(wire.encode({"records": records}))  # as a release writes it: one framed message
    return oracle.RecordedOracle(path, lambda: None)


def test_a_release_serves_a_part_only_on_a_call_it_recorded(tmp_path):
    """The recorded value on the recorded arguments (and on the same up to far-below-judging rounding, which a
    right composite computing in another order may give); anything else is NotRecorded, never a guess."""
    import pytest

    from gatelab.grading.oracle import NotRecorded

    c = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    params = {"W": np.ones((2, 2)), "b": np.zeros((2, 1))}
    call = {"part": "m.p", "args": [c, params], "value": c * 2}
    served = _recorded_oracle(tmp_path, {"m.f|small": {"args": [], "expected": 0.0, "parts": [call]}})
    assert served.serves_parts and not served.serves_any_call
    part = served.part("m.p")
    assert np.array_equal(part(c.copy(), {"W": np.ones((2, 2)), "b": np.zeros((2, 1))}), c * 2)
    assert np.array_equal(part(c * (1 + 1e-13), params), c * 2)
    for wrong in ([c + 1e-6, params], [c.astype(np.float32), params], [c.T, params], [c, {"W": params["W"]}],
                  [c]):
        with pytest.raises(NotRecorded):
            part(*wrong)
    with pytest.raises(NotRecorded):
        served.part("m.q")(c, params)


def test_a_release_recorded_before_parts_serves_none(tmp_path):
    """A recording without parts (a release built before they were recorded) serves no part: its check says it
    cannot run the composite with correct parts, as it did."""
    old = _recorded_oracle(tmp_path, {"m.f|small": {"args": [], "expected": 0.0}})
    assert not old.serves_parts and not old.serves_any_call


def test_a_release_records_the_part_calls_of_the_instructors_own_public_tests(tmp_path):
    """The reference's forget gate, in the instructor's own public test (Wf = 0, bf = +-10), calls the sigmoid:
    the release records those calls, so at home a wrong sigmoid leaves that test to judge the gate's own work,
    as grading does; a recorded call already among a case's is not written twice."""
    from conftest import COURSE, build_release, write_submission
    from gatelab import grading
    from gatelab.course import config
    from gatelab.grading import wire

    student = build_release(tmp_path / "release") / "student"
    data = wire.decode((student / "grader" / "recorded.bin").read_bytes()[4:], bounded=False)
    assert {call["part"] for call in data["served"]} == {"activations.sigmoid"}
    folder = write_submission(tmp_path / "submission", {"activations": (
        "z = np.asarray(z, dtype=np.float64)", "z = np.asarray(z, dtype=np.float64) * 0.5")})
    own = "lstm.forget_gate: With Wf = 0"
    for course in (config.load(student), config.load(COURSE)):
        results = grading.grade(course, folder,
                                grading.Request(target="lstm.forget_gate", include_hidden=False, quiz="none"))
        [test] = [t for t in results.tests if t.name.startswith(own)]
        assert test.passed, (course.root, test.feedback)
