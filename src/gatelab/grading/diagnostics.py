"""Got versus expected: what differs, where, and what that suggests.

Everything here runs in the trusted process on plain data that came back
from a worker. ``compare`` returns a list of :class:`Problem` (empty when the
result is right); ``render.feedback`` turns each into words for a student.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from gatelab.course.contract import Axis, Function, Output
from gatelab.grading.wire import Unsupported

RTOL = 1e-6
ATOL = 1e-12


@dataclass
class Problem:
    """One thing wrong with a result; ``kind`` picks the feedback template, ``details`` fill it in.

    The details may be given as a function that makes them, called only when
    the problem is put into words: a wrong array's slices and hints cost far
    more than finding it wrong, and most comparisons only ask whether a
    result is right.
    """

    kind: str
    quantity: str
    given: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def details(self) -> dict[str, Any]:
        return self.given() if callable(self.given) else self.given


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


def _fmt(array: np.ndarray, precision: int = 4) -> str:
    return np.array2string(np.asarray(array), precision=precision, suppress_small=True, max_line_width=100)


def _fmt_apart(expected: np.ndarray, got: np.ndarray) -> tuple[str, str]:
    """``expected`` and ``got`` printed with 4 digits, or with as many more as it takes to tell them apart (a
    difference below the printed precision would otherwise show two identical blocks)."""
    for precision in range(4, 18):
        shown = _fmt(expected, precision), _fmt(got, precision)
        if shown[0] != shown[1]:
            return shown
    return shown


# (rtol, atol) of agreeing to float32's precision: about a hundred float32 roundings, far from float64's
FLOAT32 = (1e-5, 1e-7)


@dataclass(frozen=True)
class _DtypeNote:
    """What to say about a result's dtype ahead of its wrong values (``lead``), the hints about precision, and
    whether the dtype explains every difference (then no other hint is given)."""

    lead: list[str]
    hints: list[str]
    whole: bool = False


def _dtype_note(got: np.ndarray, expected: np.ndarray, dtype: np.dtype) -> _DtypeNote:
    """A wrong dtype is said first; where every value agrees to float32's precision (not float64's), that names
    the cause: for a float32 result, the whole mistake; for a float64 one, float32 on the way or a tiny constant."""
    rounding = bool(np.all(_close(got, expected, FLOAT32)))
    if dtype == expected.dtype:
        return _DtypeNote([], ["Every value agrees with the expected one to within 1e-5 (relative): a difference "
                               "this small is float32 rounding on the way (an astype, a float32 array, a part of "
                               "yours that returns float32) or a small added constant, such as an epsilon."]
                          if rounding else [])
    keep = f"keep {expected.dtype} throughout (no astype, no float32 arrays, no part that returns float32)."
    if rounding and dtype == np.float32:
        return _DtypeNote([f"Your result is float32, not {expected.dtype}, and every value agrees with the expected "
                           f"one to float32's precision (about 7 digits): the dtype is all that is wrong; {keep}"],
                          [], whole=True)
    return _DtypeNote([f"Your result is {dtype}, not {expected.dtype}: {keep} Its values are wrong too:"], [])


def _axis(output: Output, axis: int, ndim: int) -> Axis:
    """What axis ``axis`` of a result means, when its declared shape has that many axes."""
    return output.axes[axis] if len(output.axes) == ndim else Axis(f"axis {axis}")


def _time_axis(output: Output, ndim: int) -> int | None:
    return next((i for i in range(ndim) if _axis(output, i, ndim).role == "time"), None)


def _window(output: Output, array: np.ndarray, index: tuple[int, ...]) -> tuple[tuple[Any, ...], str]:
    """A small slice around ``index`` (at one time step, when there is a time axis) and how to write it."""
    window: list[Any] = []
    text = []
    time = _time_axis(output, array.ndim)
    for axis, i in enumerate(index):
        if axis == time:
            window.append(i)
            text.append(str(i))
            continue
        start = max(0, min(i - 1, array.shape[axis] - 3))
        stop = min(array.shape[axis], start + 3)
        window.append(slice(start, stop))
        text.append(f"{start}:{stop}")
    return tuple(window), f"[{', '.join(text)}]"


Tolerance = tuple[float, float]  # (rtol, atol)


def _close(got: np.ndarray, expected: np.ndarray, tolerance: Tolerance = (RTOL, ATOL)) -> np.ndarray:
    """``np.isclose(got, expected, equal_nan=True)``; where both are finite, its formula without its
    overhead (the judge compares hundreds of small arrays per submission)."""
    rtol, atol = tolerance
    if got.shape == expected.shape and np.isfinite(got).all() and np.isfinite(expected).all():
        close: np.ndarray = np.abs(got - expected) <= atol + rtol * np.abs(expected)
        return close
    return np.asarray(np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True))


def _range_hints(output: Output, got: np.ndarray, expected: np.ndarray) -> list[str]:
    """What a result's range says: values outside the output's range, none negative where some should be, or
    every negative value cut to exactly 0 (then the course's hint for that, not those for the other two)."""
    hints = []
    cut = _cut_at_zero(got, expected)
    if output.range is not None:
        low, high = output.range
        if got.min() < low or got.max() > high:
            hints.append(" ".join(filter(None, [f"Some values are outside [{low:g}, {high:g}], where "
                                                f"{output.name} always lies.", "" if cut else output.hint("outside")])))
    if cut:
        zeros = int((got == 0).sum())
        hints.append(" ".join(filter(None, [f"{zeros} of {got.size} values are exactly 0 and none is negative, where "
                                            f"{output.name} has no zero: everything below 0 is cut to 0, as "
                                            "max(0, z) does.", output.hint("cut_at_zero")])))
    elif got.min() >= 0 and expected.min() < 0 and not np.all(got == got.flat[0]):  # a constant: hinted apart
        hints.append(" ".join(filter(None, [f"No value is negative, but some of {output.name} should be.",
                                            output.hint("never_negative")])))
    return hints


def _cut_at_zero(got: np.ndarray, expected: np.ndarray) -> bool:
    """Whether ``got`` looks cut off below at 0 (max(0, z)): no negative value, some above 0, and exactly 0 at
    a tenth of its entries or more, or wherever the expected result is negative; never where it is 0 itself."""
    zeros = got == 0
    if got.size < 2 or got.min() < 0 or got.max() <= 0 or not zeros.any() or (expected[zeros] == 0).any():
        return False
    negative = expected < 0
    return int(zeros.sum()) >= got.size // 10 or bool(negative.any() and zeros[negative].all())


def _hints(output: Output, got: np.ndarray, expected: np.ndarray,
           tolerance: Tolerance = (RTOL, ATOL)) -> list[str]:
    """Patterns in a wrong array that point towards a cause."""
    hints = _range_hints(output, got, expected)
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
    examples = next((i for i in range(got.ndim) if _axis(output, i, got.ndim).role == "examples"), None)
    if examples is not None and got.shape[examples] > 1:
        offset = got - expected
        first = np.take(offset, [0], axis=examples)
        if np.allclose(offset, first, atol=1e-9) and not np.allclose(offset, 0.0, atol=1e-9):
            hints.append("The difference is the same for every example: look at the terms that do not depend "
                         "on the example, such as a bias.")
    time = _time_axis(output, got.ndim)
    if time is not None and got.shape[time] > 1:
        hints.extend(_time_hints(np.moveaxis(got, time, -1), np.moveaxis(expected, time, -1), tolerance))
    return hints


def _time_hints(got: np.ndarray, expected: np.ndarray, tolerance: Tolerance = (RTOL, ATOL)) -> list[str]:
    """Hints for a result whose last axis is time."""
    T = got.shape[-1]
    right = [bool(np.all(_close(got[..., t], expected[..., t], tolerance))) for t in range(T)]
    if np.allclose(got[..., 1:], expected[..., :-1], rtol=RTOL, atol=1e-9):
        return ["Each step holds what the step before should: an off-by-one in the time index?"]
    if np.allclose(got[..., :-1], expected[..., 1:], rtol=RTOL, atol=1e-9):
        return ["Each step holds what the step after should: an off-by-one in the time index?"]
    if right[0] and not any(right[1:]):
        return ["Only the first step is right: is each step's result fed into the next step?"]
    if right[-1] and not any(right[:-1]):
        return ["Only the last step is right: are the other steps' results stored?"]
    if not right[0]:
        return ["The first step is already wrong: check the very first step, and the initial state."]
    first = right.index(False)
    return [f"Steps 0 to {first - 1} are right and step {first} is the first wrong one."]


def _localize(output: Output, wrong: np.ndarray) -> str:
    """Which indices along each axis hold a wrong entry, when not all of them do."""
    if wrong.ndim < 2:
        return ""
    parts = []
    for axis in range(wrong.ndim):
        meaning = _axis(output, axis, wrong.ndim)
        bad = np.flatnonzero(np.moveaxis(wrong, axis, 0).reshape(wrong.shape[axis], -1).any(axis=1))
        if len(bad) < wrong.shape[axis]:
            where = {0: "rows", 1: "columns"}.get(axis, "") if wrong.ndim == 2 else ""
            label = f"{where} ({meaning.label})" if where else meaning.label
            parts.append(f"{label} {_list(bad)} of {wrong.shape[axis]}")
    return "; ".join(parts)


def _list(indices: np.ndarray) -> str:
    shown = ", ".join(str(i) for i in indices[:6])
    return shown + (", ..." if len(indices) > 6 else "")


def _compare_array(output: Output, quantity: str, expected: np.ndarray, got: Any,
                   tolerance: Tolerance) -> Iterator[Problem]:
    if not isinstance(got, np.ndarray) or got.ndim == 0 and expected.ndim > 0:
        yield Problem("type", quantity, {"expected": f"a numpy array of shape {expected.shape}",
                                         "got": describe_type(got)})
        return
    if got.shape != expected.shape:
        time = _time_axis(output, expected.ndim)
        without_time = expected.shape[:time] + expected.shape[time + 1:] if time is not None else None
        yield Problem("shape", quantity, {"expected": expected.shape, "symbols": output.symbols, "got": got.shape,
                                          "transposed": got.shape == expected.shape[::-1] and got.ndim > 1,
                                          "one_time_step": got.shape == without_time})
        return
    if got.dtype != expected.dtype:
        yield Problem("dtype", quantity, {"expected": str(expected.dtype), "got": str(got.dtype)})
        if not np.issubdtype(got.dtype, np.number) or np.issubdtype(got.dtype, np.complexfloating):
            return
    dtype = got.dtype
    got = got.astype(np.float64)
    finite = np.isfinite(got)
    if not finite.all() and np.isfinite(expected).all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        yield Problem("not_finite", quantity, {"count": int((~finite).sum()), "total": got.size, "index": bad})
        return
    close = _close(got, expected, tolerance)
    if close.all():
        return
    yield Problem("values", quantity, functools.partial(_wrong_values, output, expected, got, close, dtype, tolerance))


def _wrong_values(output: Output, expected: np.ndarray, got: np.ndarray, close: np.ndarray,
                  dtype: np.dtype | None = None, tolerance: Tolerance = (RTOL, ATOL)) -> dict[str, Any]:
    """What the feedback says of an array with wrong values: how many, the worst, around it, and hints
    (float32's precision first: when it explains every difference, it is the cause)."""
    diff = np.where(close, 0.0, np.abs(got - expected))
    worst = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(diff)), diff.shape)) if diff.ndim else ()
    window, window_text = _window(output, got, worst) if worst else ((), "")
    expected_slice, got_slice = _fmt_apart(expected[window] if worst else expected, got[window] if worst else got)
    note = _dtype_note(got, expected, dtype if dtype is not None else got.dtype)
    return {
        "count": int((~close).sum()), "total": got.size, "worst_index": worst,
        "worst_diff": float(diff[worst]) if worst else float(diff),
        "window": window_text, "expected_slice": expected_slice, "got_slice": got_slice, "lead": note.lead,
        "where": _localize(output, ~close),
        "hints": note.hints + ([] if note.whole else _hints(output, got, expected, tolerance)),
    }


def _compare(output: Output, quantity: str, expected: Any, got: Any,
             tolerance: Tolerance = (RTOL, ATOL)) -> Iterator[Problem]:
    if isinstance(expected, np.ndarray):
        yield from _compare_array(output, quantity, expected, got, tolerance)
    elif isinstance(expected, float):
        if isinstance(got, np.ndarray) and got.ndim == 0 and np.issubdtype(got.dtype, np.number):
            got = float(got)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            yield Problem("type", quantity, {"expected": "a number", "got": describe_type(got)})
        elif not np.isclose(got, expected, rtol=tolerance[0], atol=tolerance[1]):
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
        entry = Output(output.name, "the same shape as the input")
        for key in expected:
            yield from _compare(entry, f"{quantity}[{key!r}]", expected[key], got[key], tolerance)
    else:
        raise TypeError(f"the reference returned {describe_type(expected)}, which the judge cannot compare")


def _tolerance(output: Output) -> Tolerance:
    """(rtol, atol) for one output: the judge's, with the contract's own atol where it gives one."""
    return RTOL, ATOL if output.atol is None else output.atol


def strictest(fn: Function) -> Tolerance:
    """The tightest tolerance among ``fn``'s outputs: what telling its whole result apart needs."""
    return RTOL, min(_tolerance(output)[1] for output in fn.returns)


def compare(fn: Function, expected: Any, got: Any) -> list[Problem]:
    """Every problem with ``got`` as a result of ``fn``, judged against ``expected``."""
    if len(fn.returns) == 1:
        return list(_compare(fn.returns[0], fn.returns[0].name, expected, got, _tolerance(fn.returns[0])))
    names = ", ".join(o.name for o in fn.returns)
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        return [Problem("type", f"({names})", {"expected": f"a tuple ({names})", "got": describe_type(got)})]
    problems: list[Problem] = []
    for output, want, have in zip(fn.returns, expected, got):
        problems.extend(_compare(output, output.name, want, have, _tolerance(output)))
    return problems


def compare_value(quantity: str, expected: Any, got: Any, rtol: float = RTOL, atol: float = ATOL) -> list[Problem]:
    """Every problem with ``got`` against ``expected`` (numbers, arrays, dicts of them), for an instructor's test."""
    if isinstance(expected, (list, int)) and not isinstance(expected, bool):
        expected = np.asarray(expected, dtype=np.float64) if isinstance(expected, list) else float(expected)
    return list(_compare(Output(quantity, ""), quantity, expected, got, (rtol, atol)))


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


def same(one: Any, other: Any, tolerance: Tolerance = (RTOL, ATOL), dtypes: bool = True) -> bool:
    """Whether two results are the same, whatever their structure: arrays of one shape and dtype (of one kind
    only, without ``dtypes``) whose values agree within the tolerance, equal numbers (a 0-d array counts as its
    number), and tuples, lists and dicts of such."""
    one, other = (float(v) if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf" else v
                  for v in (one, other))
    if isinstance(one, np.ndarray) or isinstance(other, np.ndarray):
        return isinstance(one, np.ndarray) and isinstance(other, np.ndarray) and one.shape == other.shape \
            and (one.dtype == other.dtype if dtypes else one.dtype.kind == other.dtype.kind) \
            and (one.dtype.kind not in "biufc" or bool(np.all(_close(one, other, tolerance))))
    if isinstance(one, (tuple, list)) or isinstance(other, (tuple, list)):
        return type(one) is type(other) and len(one) == len(other) and \
            all(same(a, b, tolerance, dtypes) for a, b in zip(one, other))
    if isinstance(one, dict) or isinstance(other, dict):
        return isinstance(one, dict) and isinstance(other, dict) and one.keys() == other.keys() \
            and all(same(one[k], other[k], tolerance, dtypes) for k in one)
    if isinstance(one, (int, float)) and isinstance(other, (int, float)):
        return bool(np.isclose(one, other, rtol=tolerance[0], atol=tolerance[1]))
    return bool(one == other)


def within_rounding(expected: Any, got: Any) -> bool:
    """Whether ``got`` has ``expected``'s structure, shapes and kind of numbers, and every number in it agrees
    to float32's precision: what float32 on the way, built up over many calls, leaves."""
    return same(expected, got, FLOAT32, dtypes=False)


def equal_inputs(sent: Any, returned: Any) -> list[str]:
    """Paths of the arguments that came back changed (the function modified them in place)."""
    if sent is returned:  # the worker said they did not change (see sandbox.Outcome.from_reply)
        return []
    if isinstance(sent, np.ndarray):
        same = isinstance(returned, np.ndarray) and sent.shape == returned.shape and \
            np.array_equal(sent, returned, equal_nan=True)
        return [] if same else [""]
    if isinstance(sent, dict):
        if not isinstance(returned, dict) or set(sent) != set(returned):
            return [""]
        return [f"[{k!r}]{p}" for k in sent for p in equal_inputs(sent[k], returned[k])]
    return []  # scalars cannot be changed in place
