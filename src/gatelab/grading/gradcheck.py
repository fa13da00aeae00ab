"""A reference-free gradient check: a student's backward pass against central differences of their own forward.

For a backward function whose contract says ``gradient_of`` (its forward function and its upstream
arguments), the loss is L = sum over the forward's results of (upstream * result). For each gradient the
backward returned, ``"d" + name``, the check moves that one input along a seeded random direction v by
+-EPSILON, asks the student's own forward for L there (two calls, made in the worker like any other), and
compares (L+ - L-) / (2 EPSILON) with the backward's <dname, v>. A directional check per gradient costs two
calls, not two per entry, and still says which gradient is wrong: a wrong entry moves <dname, v> off for all
but a vanishing set of directions.

So feedback can tell a student whose values are wrong which of the two passes is wrong: the backward (it
disagrees with their own forward) or the forward (the backward is its exact derivative).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from gatelab.course.contract import Contract, Function

EPSILON = 1e-5
RTOL = 1e-6  # the relative error below which a gradient agrees (central differences reach about 1e-9 here)
FLAT = 1e-9  # a directional derivative this small, both ways, says the forward does not use the input


@dataclass(frozen=True)
class Probe:
    """One gradient's check: the key, its direction, and the forward's arguments moved each way."""

    key: str
    analytic: float  # <d key, v> from the student's backward
    plus: list[Any]
    minus: list[Any]


@dataclass
class GradientCheck:
    """What the check found: derivatives that agree with the forward, disagree (with their relative error),
    could not be checked (the forward failed there), or that the forward does not depend on."""

    forward: str
    agree: list[str] = field(default_factory=list)
    disagree: list[tuple[str, float]] = field(default_factory=list)
    flat: list[str] = field(default_factory=list)
    failed: str = ""  # why the forward could not be run, when it could not

    @property
    def consistent(self) -> bool:
        """Every gradient is the derivative of the student's forward, and the forward uses each input."""
        return not self.failed and not self.disagree and not self.flat and bool(self.agree)


def _targets(forward: Function, named: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Each gradient key the backward owes, and the forward argument (and dict entry) it is the gradient of."""
    targets: dict[str, tuple[str, str | None]] = {}
    for name in forward.arg_names:
        value = named.get(name)
        if isinstance(value, np.ndarray):
            targets["d" + name] = (name, None)
        elif isinstance(value, dict):
            targets.update({"d" + key: (name, key) for key, entry in value.items() if isinstance(entry, np.ndarray)})
    return targets


def _direction(seed: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(seed.encode())).standard_normal(shape)


def _moved(forward: Function, named: dict[str, Any], target: tuple[str, str | None], step: np.ndarray) -> list[Any]:
    """The forward's arguments with one input (or one dict entry) moved by ``step``."""
    name, key = target
    moved = dict(named)
    if key is None:
        moved[name] = named[name] + step
    else:
        moved[name] = {**named[name], key: named[name][key] + step}
    return [moved[a] for a in forward.arg_names]


def probes(contract: Contract, fn: Function, args: list[Any], grads: Any, seed: str) -> list[Probe]:
    """The probes for the derivatives ``grads`` (the student's backward result on ``args``) holds with the right
    shape; a missing or misshapen gradient is the values check's to report, not this one's."""
    forward = contract.lookup(fn.gradient_of.function) if fn.gradient_of else None
    if forward is None or not isinstance(grads, dict):
        return []
    named = dict(zip(fn.arg_names, args))
    found = []
    for key, target in _targets(forward, named).items():
        value = named[target[0]] if target[1] is None else named[target[0]][target[1]]
        grad = grads.get(key)
        if not isinstance(grad, np.ndarray) or grad.shape != value.shape or not np.issubdtype(grad.dtype, np.number):
            continue
        v = _direction(f"{seed}:{key}", value.shape)
        analytic = float(np.sum(np.asarray(grad, dtype=np.float64) * v))
        found.append(Probe(key, analytic, _moved(forward, named, target, EPSILON * v),
                           _moved(forward, named, target, -EPSILON * v)))
    return found


def loss(fn: Function, args: list[Any], results: Any) -> float | None:
    """L = sum over the forward's results of (upstream * result); None when the results cannot be read."""
    assert fn.gradient_of is not None
    named = dict(zip(fn.arg_names, args))
    results = results if isinstance(results, tuple) else (results,)
    total = 0.0
    for upstream, result in zip((named[u] for u in fn.gradient_of.upstream), results):
        if not isinstance(result, np.ndarray) or result.shape != upstream.shape:
            return None
        total += float(np.sum(upstream * result.astype(np.float64)))
    return total


def settle(fn: Function, args: list[Any], found: Sequence[Probe], values: Sequence[tuple[Any, Any] | str]
           ) -> GradientCheck:
    """Judge each probe from the forward's results at its two points (or why the forward did not return)."""
    assert fn.gradient_of is not None
    check = GradientCheck(fn.gradient_of.function)
    for probe, pair in zip(found, values):
        if isinstance(pair, str):
            check.failed = pair
            return check
        up, down = loss(fn, args, pair[0]), loss(fn, args, pair[1])
        if up is None or down is None or not np.isfinite(up) or not np.isfinite(down):
            check.failed = f"your {fn.gradient_of.function} returned no result of the shape the check needs"
            return check
        numeric = (up - down) / (2 * EPSILON)
        scale = abs(numeric) + abs(probe.analytic)
        if scale < FLAT:
            check.flat.append(probe.key)
            continue
        error = abs(numeric - probe.analytic) / scale
        if error <= RTOL or abs(numeric - probe.analytic) <= FLAT:
            check.agree.append(probe.key)
        else:
            check.disagree.append((probe.key, error))
    return check
