"""Got versus expected: what differs, where, and what that suggests.

Everything here runs in the trusted process on plain data that came back
from a worker. ``compare`` returns a list of :class:`Problem` (empty when the
result is right); ``render.feedback`` turns each into words for a student.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from gatelab.contract import Function
from gatelab.wire import Unsupported

RTOL = 1e-6
ATOL = 1e-12


@dataclass
class Problem:
    """One thing wrong with a result; ``kind`` picks the feedback template."""

    kind: str
    quantity: str
    details: dict[str, Any] = field(default_factory=dict)


def describe_type(value: Any) -> str:
    """How a returned value reads in a sentence: 'a list', 'a tuple of 3 items', 'a generator'."""
    if isinstance(value, Unsupported):
        return f"a {value.type_name} ({value.text})"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    if value is None:
        return "None (did the function forget to return?)"
    return f"a {type(value).__name__}"


def _fmt(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), precision=4, suppress_small=True, max_line_width=100)


def _window(array: np.ndarray, index: tuple[int, ...]) -> tuple[tuple[Any, ...], str]:
    """A small slice around ``index`` (one time step of a sequence) and how to write it."""
    window: list[Any] = []
    text = []
    for axis, i in enumerate(index):
        if array.ndim == 3 and axis == 2:
            window.append(i)
            text.append(str(i))
            continue
        start = max(0, min(i - 1, array.shape[axis] - 3))
        stop = min(array.shape[axis], start + 3)
        window.append(slice(start, stop))
        text.append(f"{start}:{stop}")
    return tuple(window), f"[{', '.join(text)}]"


def _close(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.isclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=True)


def _hints(fn: Function, got: np.ndarray, expected: np.ndarray) -> list[str]:
    """Generic patterns in a wrong array that point towards a cause."""
    hints = []
    if fn.range == "gate" and got.min() < 0:
        hints.append("Some values are below 0, but a gate lies in (0, 1): is there a tanh where sigmoid belongs?")
    if fn.range == "tanh" and np.abs(got).max() > 1:
        hints.append("Some values are outside [-1, 1], which tanh never leaves: is the tanh missing?")
    if fn.range == "tanh" and got.min() >= 0 and expected.min() < 0:
        hints.append("No value is negative, but tanh outputs are: is there a sigmoid where tanh belongs?")
    if np.allclose(got, -expected, rtol=RTOL, atol=1e-9):
        hints.append("Every value has the opposite sign: check the sign of each term.")
    nonzero = np.abs(expected) > 1e-9
    constant = got.size > 1 and bool(np.all(got == got.flat[0])) and not np.all(expected == expected.flat[0])
    if constant:
        hints.append(f"Every value is {got.flat[0]:.4g}: is the result computed from the inputs at all?")
    elif nonzero.any():
        ratio = got[nonzero] / expected[nonzero]
        if np.allclose(ratio, ratio.flat[0], rtol=1e-6) and not np.isclose(ratio.flat[0], 1.0):
            hints.append(f"Every value is {ratio.flat[0]:.4g} times the expected one: a stray constant factor?")
    offset = got - expected
    per_row = got.ndim == 2 and got.shape[1] > 1 and np.allclose(offset, offset[:, :1], atol=1e-9)
    if per_row and not np.allclose(offset, 0.0, atol=1e-9):
        hints.append("The difference is the same in every column (example): look at the bias term.")
    if got.ndim == 3 and got.shape[2] > 1:
        hints.extend(_time_hints(got, expected))
    return hints


def _time_hints(got: np.ndarray, expected: np.ndarray) -> list[str]:
    T = got.shape[2]
    right = [bool(np.all(_close(got[:, :, t], expected[:, :, t]))) for t in range(T)]
    if np.allclose(got[:, :, 1:], expected[:, :, :-1], rtol=RTOL, atol=1e-9):
        return ["Each step holds the expected state of the step before: an off-by-one in the time index?"]
    if np.allclose(got[:, :, :-1], expected[:, :, 1:], rtol=RTOL, atol=1e-9):
        return ["Each step holds the expected state of the step after: an off-by-one in the time index?"]
    if right[0] and not any(right[1:]):
        return ["Only the first step is right: is each step's state fed back into the next step?"]
    if right[-1] and not any(right[:-1]):
        return ["Only the last step is right: are the other steps' states stored?"]
    if not right[0]:
        return ["The first step is already wrong: check the very first call, and the initial state."]
    first = right.index(False)
    return [f"Steps 0 to {first - 1} are right and step {first} is the first wrong one."]


def _localize(got: np.ndarray, expected: np.ndarray, wrong: np.ndarray) -> str:
    if got.ndim != 2 and got.ndim != 3:
        return ""
    rows = np.flatnonzero(wrong.reshape(wrong.shape[0], -1).any(axis=1))
    cols = np.flatnonzero(np.moveaxis(wrong, 1, 0).reshape(wrong.shape[1], -1).any(axis=1))
    parts = []
    if len(rows) < wrong.shape[0]:
        parts.append(f"rows {_list(rows)} of {wrong.shape[0]}")
    if len(cols) < wrong.shape[1]:
        parts.append(f"columns (examples) {_list(cols)} of {wrong.shape[1]}")
    if got.ndim == 3:
        steps = np.flatnonzero(wrong.reshape(-1, wrong.shape[2]).any(axis=0))
        if len(steps) < wrong.shape[2]:
            parts.append(f"time steps {_list(steps)} of {wrong.shape[2]}")
    return "; ".join(parts)


def _list(indices: np.ndarray) -> str:
    shown = ", ".join(str(i) for i in indices[:6])
    return shown + (", ..." if len(indices) > 6 else "")


def _compare_array(fn: Function, quantity: str, expected: np.ndarray, got: Any, shape_hint: str) -> Iterator[Problem]:
    if not isinstance(got, np.ndarray) or got.ndim == 0 and expected.ndim > 0:
        yield Problem("type", quantity, {"expected": f"a numpy array of shape {expected.shape}",
                                         "got": describe_type(got)})
        return
    if got.shape != expected.shape:
        yield Problem("shape", quantity, {"expected": expected.shape, "symbols": shape_hint, "got": got.shape,
                                          "transposed": got.shape == expected.shape[::-1] and got.ndim > 1,
                                          "last_step_only": expected.ndim == 3 and got.shape == expected.shape[:2]})
        return
    if got.dtype != expected.dtype:
        yield Problem("dtype", quantity, {"expected": str(expected.dtype), "got": str(got.dtype)})
        if not np.issubdtype(got.dtype, np.number) or np.issubdtype(got.dtype, np.complexfloating):
            return
    got = got.astype(np.float64)
    finite = np.isfinite(got)
    if not finite.all() and np.isfinite(expected).all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        yield Problem("not_finite", quantity, {"count": int((~finite).sum()), "total": got.size, "index": bad})
        return
    close = _close(got, expected)
    if close.all():
        return
    diff = np.where(close, 0.0, np.abs(got - expected))
    worst = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(diff)), diff.shape)) if diff.ndim else ()
    window, window_text = _window(got, worst) if worst else ((), "")
    yield Problem("values", quantity, {
        "count": int((~close).sum()), "total": got.size, "worst_index": worst,
        "worst_diff": float(diff[worst]) if worst else float(diff),
        "window": window_text, "expected_slice": _fmt(expected[window] if worst else expected),
        "got_slice": _fmt(got[window] if worst else got),
        "where": _localize(got, expected, ~close), "hints": _hints(fn, got, expected),
    })


def _compare(fn: Function, quantity: str, expected: Any, got: Any, shape_hint: str) -> Iterator[Problem]:
    if isinstance(expected, np.ndarray):
        yield from _compare_array(fn, quantity, expected, got, shape_hint)
    elif isinstance(expected, float):
        if isinstance(got, np.ndarray) and got.ndim == 0 and np.issubdtype(got.dtype, np.number):
            got = float(got)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            yield Problem("type", quantity, {"expected": "a number", "got": describe_type(got)})
        elif not np.isclose(got, expected, rtol=RTOL, atol=ATOL):
            yield Problem("number", quantity, {"expected": expected, "got": got})
    elif isinstance(expected, dict):
        if not isinstance(got, dict):
            yield Problem("type", quantity, {"expected": f"a dict with keys {sorted(expected)}",
                                             "got": describe_type(got)})
            return
        if set(got) != set(expected):
            yield Problem("keys", quantity, {"missing": sorted(set(expected) - set(got)),
                                             "extra": sorted(set(got) - set(expected))})
            return
        for key in expected:
            yield from _compare(fn, f"{quantity}[{key!r}]", expected[key], got[key], "the same shape as the input")
    else:
        raise TypeError(f"the reference returned {describe_type(expected)}, which the judge cannot compare")


def compare(fn: Function, expected: Any, got: Any) -> list[Problem]:
    """Every problem with ``got`` as a result of ``fn``, judged against ``expected``."""
    if len(fn.returns) == 1:
        quantity, shape = fn.returns[0]
        return list(_compare(fn, quantity, expected, got, shape))
    names = ", ".join(q for q, _ in fn.returns)
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        return [Problem("type", f"({names})", {"expected": f"a tuple ({names})", "got": describe_type(got)})]
    problems = []
    for (quantity, shape), want, have in zip(fn.returns, expected, got):
        problems.extend(_compare(fn, quantity, want, have, shape))
    return problems


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def needs_work(expected: Any, args: list[Any]) -> bool:
    """Whether no submission that does no work could return ``expected`` for these ``args``.

    A result needs work when some array in it is neither constant nor equal to
    an input array, or some number in it is not one of the input numbers:
    constants of the right shape and echoes of the inputs cannot match it.
    """
    arrays = [a for a in _leaves(args) if isinstance(a, np.ndarray)]
    numbers = [float(a) for a in _leaves(args) if isinstance(a, (int, float)) and not isinstance(a, bool)]
    for value in _leaves(expected):
        if isinstance(value, np.ndarray) and value.size > 1:
            constant = bool(np.all(value == value.flat[0]))
            echo = any(a.shape == value.shape and np.allclose(a, value, rtol=RTOL, atol=ATOL) for a in arrays)
            if not constant and not echo:
                return True
        elif isinstance(value, np.ndarray) and value.size == 0:
            continue
        elif isinstance(value, (np.ndarray, int, float)) and not isinstance(value, bool):
            number = float(np.ravel(value)[0]) if isinstance(value, np.ndarray) else float(value)
            if not any(np.isclose(number, n, rtol=RTOL, atol=ATOL) for n in numbers):
                return True
    return False


def equal_inputs(sent: Any, returned: Any) -> list[str]:
    """Paths of the arguments that came back changed (the function modified them in place)."""
    if isinstance(sent, np.ndarray):
        same = isinstance(returned, np.ndarray) and sent.shape == returned.shape and \
            np.array_equal(sent, returned, equal_nan=True)
        return [] if same else [""]
    if isinstance(sent, dict):
        if not isinstance(returned, dict) or set(sent) != set(returned):
            return [""]
        return [f"[{k!r}]{p}" for k in sent for p in equal_inputs(sent[k], returned[k])]
    return []  # scalars cannot be changed in place
