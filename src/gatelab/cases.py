"""Seeded inputs for a contract function on a named case (shapes and scale).

A case is data from ``grader/config.yaml`` (``small``, ``batch_of_one``,
``saturated``...). Inputs depend only on the assignment seed, the function
and the case name, so a failing test replays exactly.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from gatelab.contract import PARAMS_BY_MODULE, Function


@dataclass(frozen=True)
class Case:
    """Shapes and input scale for one family of tests."""

    name: str
    n_x: int = 3
    n_h: int = 4
    m: int = 5
    T: int = 6
    scale: float = 1.0
    title: str = ""

    @property
    def label(self) -> str:
        """Human title: ``batch of one (n_x=3, n_h=4, m=1)``."""
        return self.title or self.name.replace("_", " ")


def seed_for(base_seed: int, qualname: str, case: str) -> int:
    """A stable seed for one (function, case) pair, like pytest-randomly's crc32(nodeid)."""
    return zlib.crc32(f"{base_seed}:{qualname}:{case}".encode())


def _params(module: str, case: Case, rng: np.random.Generator, weight_scale: float) -> dict[str, np.ndarray]:
    params = {}
    for key in PARAMS_BY_MODULE[module]:
        if key.startswith("W"):
            shape = (case.n_h, case.n_h + case.n_x)
            params[key] = rng.normal(0.0, weight_scale / np.sqrt(shape[1]), shape)
        else:
            params[key] = rng.normal(0.0, 0.5 * weight_scale, (case.n_h, 1))
    return params


def _preactivation(case: Case, rng: np.random.Generator) -> np.ndarray:
    z = rng.normal(0.0, 3.0, (case.n_h, case.m))
    if case.scale > 1:
        z = np.sign(z) * case.scale
        z.flat[:: 3] = rng.uniform(-8.0, 8.0, z.flat[:: 3].shape)
    return z


def _build(kind: str, fn: Function, case: Case, rng: np.random.Generator) -> Any:
    n_x, n_h, m, T = case.n_x, case.n_h, case.m, case.T
    if kind == "preactivation":
        return _preactivation(case, rng)
    if kind == "input":
        return rng.normal(0.0, 1.0, (n_x, m))
    if kind in ("state", "squashed"):
        return np.tanh(rng.normal(0.0, 1.0, (n_h, m)))
    if kind == "cell":
        return rng.normal(0.0, 2.0, (n_h, m))
    if kind == "gate":
        return 1.0 / (1.0 + np.exp(-rng.normal(0.0, 2.0, (n_h, m))))
    if kind == "sequence":
        return rng.normal(0.0, 1.0, (n_x, m, T))
    if kind == "state_column":
        return np.tanh(rng.normal(0.0, 1.0, (n_h, 1)))
    if kind == "sequence_column":
        return rng.normal(0.0, 1.0, (n_x, 1, T))
    if kind == "params":
        # Saturated cases use weights big enough that pre-activations reach hundreds.
        weight_scale = case.scale if case.scale > 1 else (0.8 if fn.module == "gradients" else 1.5)
        return _params(fn.module, case, rng, weight_scale)
    if kind == "grads":
        return {"dWh": rng.normal(0.0, 3.0 * case.scale, (n_h, n_h + n_x)),
                "dbh": rng.normal(0.0, 3.0 * case.scale, (n_h, 1)),
                "dWy": rng.normal(0.0, 3.0 * case.scale, (n_x, n_h))}
    if kind == "bound":
        return 1.5
    raise ValueError(f"no input builder for argument kind {kind!r}")


def make_args(fn: Function, case: Case, base_seed: int) -> list[Any]:
    """Fresh inputs for ``fn`` on ``case``; the same three values always give the same arrays."""
    rng = np.random.default_rng(seed_for(base_seed, fn.qualname, case.name))
    return [_build(kind, fn, case, rng) for _, kind in fn.args]
