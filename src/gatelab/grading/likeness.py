"""A wrong result as a short digest, so a class's similarity check can see two students make one mistake.

Two submissions whose function computes the same wrong values get the same digest, however their code is
written: the values are rounded to 20 significant bits (about 6 decimal digits) first, so the last bits a
different order of operations leaves do not tell them apart. A result that needs no work (a constant, an
echo of an input: what anyone who does nothing returns) gets no digest: sharing it says nothing.
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from gatelab.grading import diagnostics

BITS = 20  # significant bits kept of every number: 2**-20 ~ 1e-6 relative
LENGTH = 16  # hex digits of the digest kept


def digest(value: Any, args: list[Any]) -> str:
    """The digest of ``value`` (a result of a call on ``args``: whatever a student returned, strings and
    all), or "" when it needs no work. Never raises: a value it cannot digest gets none."""
    try:
        if _numbers_only(value) and not diagnostics.needs_work(value, args):
            return ""
        hashed = hashlib.sha256()
        _feed(hashed, value)
        return hashed.hexdigest()[:LENGTH]
    except Exception:  # noqa: BLE001 - a student's value never stops grading
        return ""


def _numbers_only(value: Any) -> bool:
    """Whether every leaf of ``value`` is a number or a numeric array (what ``needs_work`` reads)."""
    if isinstance(value, dict):
        return all(_numbers_only(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_numbers_only(v) for v in value)
    return _number(value)


def _number(value: Any) -> bool:
    """Whether ``value`` is a number or a numeric array (a bool is neither)."""
    return isinstance(value, (np.ndarray, np.generic, int, float)) and not isinstance(value, bool) \
        and np.asarray(value).dtype.kind in "iuf"


def _feed(hashed: Any, value: Any) -> None:
    """Every leaf of ``value`` into ``hashed`` with its structure, numbers rounded (see :data:`BITS`)."""
    if isinstance(value, dict):
        hashed.update(b"{")
        for key in sorted(value, key=str):
            hashed.update(repr(key).encode() + b":")
            _feed(hashed, value[key])
        hashed.update(b"}")
    elif isinstance(value, (list, tuple)):
        hashed.update(b"[")
        for item in value:
            _feed(hashed, item)
        hashed.update(b"]")
    elif _number(value):
        array = np.asarray(value, dtype=np.float64)
        hashed.update(f"a{array.shape}".encode())
        hashed.update(_rounded(array).tobytes())
    else:
        hashed.update(repr(value).encode())


def _rounded(array: np.ndarray) -> np.ndarray:
    """``array`` with each finite number rounded to :data:`BITS` significant bits; -0.0 as 0.0, every NaN one."""
    mantissa, exponent = np.frexp(np.where(np.isfinite(array), array, 0.0))
    rounded = np.ldexp(np.round(mantissa * 2.0**BITS) / 2.0**BITS, exponent) + 0.0
    return np.where(np.isfinite(array), rounded, np.where(np.isnan(array), np.nan, array))
