"""The contract as data: it matches the curriculum and every argument kind can be built."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gatelab.cases import Case, make_args
from gatelab.contract import ARG_KINDS, FUNCTIONS
from gatelab.reference import Reference

ROOT = Path(__file__).resolve().parent.parent


def test_every_argument_kind_is_documented_and_built():
    """Each argument kind used by the contract is described in ARG_KINDS and has a builder."""
    used = {kind for fn in FUNCTIONS for _, kind in fn.args}
    assert used == set(ARG_KINDS)
    for fn in FUNCTIONS:
        assert len(make_args(fn, Case("small"), 0)) == len(fn.args)


def test_every_function_exists_in_the_reference_with_its_argument_names():
    """solutions/ defines every contract function with the contract's argument names, in order."""
    import inspect

    reference = Reference(ROOT / "solutions")
    for fn in FUNCTIONS:
        assert tuple(inspect.signature(reference.function(fn.qualname)).parameters) == fn.arg_names


def test_reference_composites_run_on_served_parts():
    """Run in a worker with its parts served by the grader, each reference composite asks for every part
    and returns what it returns on its own: parts served by name reach code that calls them by name."""
    from gatelab.sandbox import Limits, Sandbox

    reference = Reference(ROOT / "solutions")
    with Sandbox(ROOT / "solutions", Limits(timeout=10)) as box:
        for fn in (f for f in FUNCTIONS if f.parts):
            args = make_args(fn, Case("small", T=2), 1)
            plain = reference.function(fn.qualname)(*args)
            asked: list[str] = []

            def server(name):
                def serve(*a):
                    asked.append(name)
                    return reference.function(name)(*a)
                return serve

            outcome = box.call(fn.module, fn.name, args, {p: server(p) for p in fn.parts})
            assert outcome.ok, (fn.qualname, outcome.status, outcome.error)
            assert set(asked) == set(fn.parts), fn.qualname
            flat = lambda v: np.concatenate([np.ravel(x) for x in (v if isinstance(v, tuple) else (v,))])  # noqa: E731
            assert np.allclose(flat(plain), flat(outcome.value)), fn.qualname
