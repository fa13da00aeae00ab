"""How a family mistake is computed: the reference on changed inputs, its result changed after.

A mistake family (``grader/mistakes/families.yaml``) says what a whole kind of
wrong code does as plain data: "this key of the parameters set to zero",
"another part's weights", "W's column blocks swapped" (inputs stacked in the
other order), "the result one step late along time", "one part called where another
belongs". :func:`apply` is the one formula every family mistake
shares: it changes copies of the arguments, calls the reference function
(with any part it calls swapped for another), and
changes its result (all of it, or one named output). Entries of a result that a
mistake leaves undetermined (the step a shifted sequence has no value for)
are NaN: they match whatever the student's code put there.

This module imports numpy only: ``grade audit`` copies it beside a planted
submission, where nothing of gatelab is importable.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np

INPUT_OPS = ("zero", "copy", "scale", "swap_stack", "drop_first_step")
OUTPUT_OPS = ("affine", "add", "shift", "last_step", "free", "repeat_last", "pad_first", "time_first")
CALL_OPS = ("calls",)  # {part: Q, calls: P}: P's value where Q's belongs
FREE_OPS = ("shift", "free", "pad_first")  # output ops that leave entries undetermined (NaN)


class NotApplicable(Exception):
    """The mistake cannot be made on these inputs (say, two weights of different shapes)."""


def _split(path: str) -> tuple[str, str | None]:
    name, _, key = path.partition(".")
    return name, key or None


def _get(named: dict[str, Any], path: str) -> Any:
    name, key = _split(path)
    return named[name] if key is None else named[name][key]


def _set(named: dict[str, Any], path: str, value: Any) -> None:
    """Replaces an argument, or one key of a dict argument in a copy of that dict (the caller's stays as is)."""
    name, key = _split(path)
    if key is None:
        named[name] = value
        return
    if key not in named[name]:
        raise NotApplicable(f"{name} has no key {key!r}")
    named[name] = {**named[name], key: value}


def _change_input(named: dict[str, Any], op: dict[str, Any], arg_time: dict[str, int]) -> None:
    if "zero" in op:
        _set(named, op["zero"], np.zeros_like(_get(named, op["zero"])))
    elif "copy" in op:
        source, target = _get(named, op["copy"]), _get(named, op["to"])
        if np.shape(source) != np.shape(target):
            raise NotApplicable(f"{op['copy']} and {op['to']} differ in shape")
        _set(named, op["to"], source)
    elif "scale" in op:
        _set(named, op["scale"], _get(named, op["scale"]) * op["by"])
    elif "swap_stack" in op:
        # W @ [top; rest] equals W' @ [rest; top] with W's first len(top) columns moved to the end.
        weights, rows = _get(named, op["swap_stack"]), np.shape(_get(named, op["top"]))[0]
        _set(named, op["swap_stack"], np.concatenate([weights[:, rows:], weights[:, :rows]], axis=1))
    elif "drop_first_step" in op:
        name = op["drop_first_step"]
        sequence = named[name]
        if sequence.shape[arg_time[name]] < 2:
            raise NotApplicable(f"{name} has a single step")
        named[name] = np.take(sequence, range(1, sequence.shape[arg_time[name]]), axis=arg_time[name])


def _free(shape: tuple[int, ...]) -> np.ndarray:
    return np.full(shape, np.nan)


def _change_array(value: Any, op: dict[str, Any], axis: int | None, named: dict[str, Any]) -> Any:
    """One output op on one result array; ``axis`` is its time axis (None: it has none)."""
    if "affine" in op:
        scale, offset = op["affine"]
        return value * scale + offset
    if "add" in op:
        return value + _get(named, op["add"])
    if axis is None or not isinstance(value, np.ndarray):
        raise NotApplicable("the result has no time axis")
    steps = value.shape[axis]
    moved = np.moveaxis(np.asarray(value, dtype=np.float64), axis, 0)
    if "shift" in op:
        shifted = _free(moved.shape)
        if op["shift"] > 0:
            shifted[1:] = moved[:-1]
        else:
            shifted[:-1] = moved[1:]
        out = shifted
    elif "last_step" in op:
        return np.take(value, steps - 1, axis=axis)
    elif "free" in op:
        out = moved.copy()
        out[0 if op["free"] == "first" else -1] = np.nan
    elif "repeat_last" in op:
        out = np.broadcast_to(moved[-1:], moved.shape).copy()
    elif "pad_first" in op:
        out = np.concatenate([_free(moved[:1].shape), moved], axis=0)
    elif "time_first" in op:
        return np.moveaxis(value, axis, 0)
    else:
        raise NotApplicable(f"unknown output op {sorted(op)}")
    return np.moveaxis(out, 0, axis)


def _change_output(result: Any, op: dict[str, Any], out_time: list[int | None], named: dict[str, Any],
                   out_names: Sequence[str] = ()) -> Any:
    """``op`` on the result; with ``only``, on the output of that name alone (the others stay right)."""
    if isinstance(result, tuple):
        return tuple(_change_array(r, op, axis, named) if op.get("only") in (None, name) else r
                     for r, axis, name in zip(result, out_time, [*out_names, *[None] * len(result)]))
    return _change_array(result, op, out_time[0] if out_time else None, named)


def _part(ref: Any, qualname: str) -> Any:
    module, name = qualname.split(".")
    return getattr(getattr(ref, module), name)


@contextmanager
def _calls_changed(function: Any, ref: Any, calls: Sequence[dict[str, Any]]) -> Iterator[None]:
    """While the block runs, ``function``'s module finds each changed part's stand-in under the part's name."""
    scope = function.__globals__
    saved: dict[str, Any] = {}
    try:
        for op in calls:
            name = op["part"].split(".")[1]
            if name not in scope:
                raise NotApplicable(f"{op['part']} is not called by its plain name here")
            saved.setdefault(name, scope[name])
            scope[name] = _part(ref, op["calls"])
        yield
    finally:
        scope.update(saved)


def apply(ref: Any, *args: Any, function: str, arg_names: Sequence[str], inputs: Sequence[dict[str, Any]] = (),
          outputs: Sequence[dict[str, Any]] = (), arg_time: dict[str, int] | None = None,
          out_time: Sequence[int | None] = (), calls: Sequence[dict[str, Any]] = (),
          out_names: Sequence[str] = ()) -> Any:
    """What the mistaken ``function`` returns: the reference (``ref.module.name``) on changed copies of
    ``args``, with the part calls ``calls`` changed, its result then changed by ``outputs``. Raises
    NotApplicable where the mistake cannot be made."""
    named = dict(zip(arg_names, args))
    original = dict(named)
    for op in inputs:
        _change_input(named, op, arg_time or {})
    reference = _part(ref, function)
    with _calls_changed(reference, ref, calls):
        result = reference(*[named[n] for n in arg_names])
    for op in outputs:
        result = _change_output(result, op, list(out_time), original, out_names)
    return result
