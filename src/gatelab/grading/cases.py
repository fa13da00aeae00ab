"""Seeded inputs for a contract function on a named case.

A case is data from ``grader/config.yaml``: a value for every dimension of
the contract and for any of its variables. How each argument is drawn comes
from the contract's ``inputs``. Inputs depend only on the assignment seed,
the function and the case name, so a failing test replays exactly.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from gatelab.course.contract import Contract, Draw, Function, Kind


@dataclass(frozen=True)
class Case:
    """The values of the dimensions and variables for one family of tests."""

    name: str
    values: tuple[tuple[str, float], ...] = ()
    title: str = ""

    @property
    def label(self) -> str:
        """Human title: ``batch of one (m=1)``, or the name with spaces."""
        return self.title or self.name.replace("_", " ")

    def value(self, name: str) -> float:
        return dict(self.values)[name]


def seed_for(base_seed: int, qualname: str, case: str) -> int:
    """A stable seed for one (function, case) pair, like pytest-randomly's crc32(nodeid)."""
    return zlib.crc32(f"{base_seed}:{qualname}:{case}".encode())


def _draw(draw: Draw, env: Mapping[str, Any], rng: np.random.Generator) -> Any:
    if draw.distribution == "value":
        value = draw.parameters[0](env)
        return float(value) if isinstance(value, (int, float)) else value
    shape = tuple(int(e(env)) for e in draw.shape)
    if draw.distribution == "normal":
        x = rng.normal(0.0, draw.parameters[0](env), shape)
    else:
        x = rng.uniform(draw.parameters[0](env), draw.parameters[1](env), shape)
    if draw.saturate is not None and draw.saturate.when(env):
        spare = draw.saturate
        x = np.sign(x) * spare.magnitude(env)
        x.flat[:: spare.spare_every] = rng.uniform(spare.spare[0](env), spare.spare[1](env),
                                                   x.flat[:: spare.spare_every].shape)
    if draw.then is not None:
        x = np.asarray(draw.then({**env, "x": x}), dtype=np.float64)
    return x


def build(kind: Kind, case: Case, rng: np.random.Generator) -> Any:
    """One argument of ``kind`` for ``case``: an array, a number, or a dict of them."""
    env: dict[str, Any] = dict(case.values)
    for name, expression in kind.let:
        env[name] = expression(env)
    if kind.draw is not None:
        return _draw(kind.draw, env, rng)
    return {key: _draw(draw, env, rng) for key, draw in kind.entries}


def make_args(contract: Contract, fn: Function, case: Case, base_seed: int) -> list[Any]:
    """Fresh inputs for ``fn`` on ``case``; the same values always give the same arrays."""
    rng = np.random.default_rng(seed_for(base_seed, fn.qualname, case.name))
    return [build(contract.kinds[kind], case, rng) for _, kind in fn.args]
