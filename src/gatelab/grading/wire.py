"""The only format that crosses between the grader and a student worker.

A frame is a 4-byte big-endian length, then a 4-byte header length, a JSON
header, and the raw bytes (C order) of every array it mentions; the header
gives each array's dtype string and shape, and a dtype that could hold
Python objects is refused. Nothing here can execute code on decoding:
arrays of Python objects, custom classes and anything else that is not plain
data are sent as an ``unsupported`` marker that names the type, so the judge
can say "your function returned a generator" instead of crashing. A header
from a worker is counted before it is parsed (``MAX_CONTAINERS``,
``MAX_VALUES``, ``MAX_JSON_DEPTH``), and ``valid_data`` makes the strings a
worker sent valid text.

This module imports only the standard library and numpy, because the worker
(student side) uses it too.
"""
from __future__ import annotations

import copy
import functools
import json
import math
import re
import struct
from typing import Any

import numpy as np

MAX_FRAME_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 16
# Bounds on a frame's JSON header before it is parsed, so that a worker's reply cannot expand into
# gigabytes of Python objects (a 3-byte ``{},`` becomes a 64-byte dict): lists and dicts, values, nesting.
MAX_CONTAINERS = 50_000
MAX_VALUES = 500_000
MAX_JSON_DEPTH = 2 * MAX_DEPTH + 8  # each wire level is a dict holding a list or dict, plus the envelope
_LEN = struct.Struct(">I")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class WireError(Exception):
    """A frame that is malformed, too large, or holds something we refuse to load."""


class Unsupported:
    """Stands for a value that is not plain data (an object, a generator, ...)."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unsupported) and (self.type_name, self.text) == (other.type_name, other.text)


def safe_str(value: object, limit: int = 300) -> str:
    """``str(value)`` that never raises and never returns more than ``limit`` characters."""
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        try:
            text = f"<unprintable {type(value).__name__}>"
        except BaseException:  # noqa: BLE001
            text = "<unprintable>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _encode(value: Any, blobs: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        return {"t": "unsupported", "type": "nesting", "text": f"nested deeper than {MAX_DEPTH} levels"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        if abs(value) < 2**63:
            return value
        try:
            return {"t": "float", "v": repr(float(value))}
        except OverflowError:
            return {"t": "unsupported", "type": "int", "text": f"an integer of {value.bit_length()} bits"}
    if isinstance(value, float) and not isinstance(value, np.floating):
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)):
        return _encode_array(np.asarray(value), blobs)
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [_encode(v, blobs, depth + 1) for v in value]}
    if isinstance(value, list):
        return {"t": "list", "v": [_encode(v, blobs, depth + 1) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {"t": "unsupported", "type": "dict", "text": "a dict whose keys are not all strings"}
        return {"t": "dict", "v": {k: _encode(v, blobs, depth + 1) for k, v in value.items()}}
    return {"t": "unsupported", "type": safe_str(type(value).__name__, 80), "text": safe_str(value, 120)}


def _plain_dtype(dtype: np.dtype) -> bool:
    """Numbers, booleans and fixed-size strings only: nothing that can hold a Python object."""
    return not dtype.hasobject and dtype.fields is None and dtype.subdtype is None and dtype.kind in "biufcSUmM"


@functools.lru_cache(maxsize=256)
def _dtype(text: str) -> np.dtype:
    """The dtype a header names, once checked (a frame names the same few dtypes again and again)."""
    dtype = np.dtype(text)
    if not _plain_dtype(dtype):
        raise WireError(f"refusing an array of dtype {dtype}")
    return dtype


def _encode_array(array: np.ndarray, blobs: list[bytes]) -> Any:
    if not _plain_dtype(array.dtype):
        return {"t": "unsupported", "type": "ndarray", "text": f"an array of dtype {array.dtype}"}
    blobs.append(np.ascontiguousarray(array).tobytes())
    return {"t": "array", "i": len(blobs) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}


def _array(node: dict[str, Any], blobs: list[memoryview]) -> np.ndarray:
    """An array from its header node and its raw bytes, checked before anything is built."""
    dtype = _dtype(str(node["dtype"]))
    shape = tuple(node["shape"])
    if not all(type(n) is int and n >= 0 for n in shape):
        raise WireError(f"bad array shape {safe_str(shape, 80)}")
    blob = blobs[node["i"]]
    if len(blob) != math.prod(shape) * dtype.itemsize:
        raise WireError("array bytes do not match its dtype and shape")
    return np.frombuffer(blob, dtype=dtype).reshape(shape)  # writable: the frame's own copy of the bytes


def _decode(node: Any, arrays: list[memoryview], depth: int = 0) -> Any:
    if depth > MAX_DEPTH + 1:
        raise WireError("frame nested too deeply")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict) or "t" not in node:
        raise WireError(f"unexpected node {safe_str(node, 80)}")
    kind = node["t"]
    if kind == "array":
        return _array(node, arrays)
    if kind == "float":
        return float(node["v"])
    if kind == "tuple":
        return tuple(_decode(v, arrays, depth + 1) for v in node["v"])
    if kind == "list":
        return [_decode(v, arrays, depth + 1) for v in node["v"]]
    if kind == "dict":
        return {k: _decode(v, arrays, depth + 1) for k, v in node["v"].items()}
    if kind == "unsupported":
        return Unsupported(str(node.get("type")), str(node.get("text")))
    raise WireError(f"unknown node type {kind!r}")


def _check_header(header: bytes) -> None:
    """Refuse a JSON header with too many lists and dicts, too many values or too deep a nesting, counted on
    its bytes (strings blanked out) before any object is built."""
    shape = _STRING.sub(b"0", header)
    opened, closed = shape.count(b"[") + shape.count(b"{"), shape.count(b"]") + shape.count(b"}")
    if max(opened, closed) > MAX_CONTAINERS:
        raise WireError(f"the reply was too large: {max(opened, closed)} lists and dicts, "
                        f"over the limit of {MAX_CONTAINERS}")
    values = opened + shape.count(b",") + 1
    if values > MAX_VALUES:
        raise WireError(f"the reply was too large: about {values} values, over the limit of {MAX_VALUES}")
    depth = deepest = 0
    for byte in shape.translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_JSON_DEPTH:
        raise WireError(f"the reply was too deep: nested {deepest} levels, over the limit of {MAX_JSON_DEPTH}")


def encode(message: dict[str, Any]) -> bytes:
    """One message (a dict of plain data and arrays) as a length-prefixed frame."""
    blobs: list[bytes] = []
    body = {k: _encode(v, blobs, 0) for k, v in message.items()}
    header = json.dumps({"body": body, "sizes": [len(b) for b in blobs]}, allow_nan=False).encode()
    payload = _LEN.pack(len(header)) + header + b"".join(blobs)
    return _LEN.pack(len(payload)) + payload


def decode(payload: bytes, bounded: bool = True) -> dict[str, Any]:
    """The message in a frame's payload (the bytes after the outer length). ``bounded`` refuses a header over
    the limits on containers, values and depth; only data the grader wrote itself may be read unbounded."""
    try:
        (header_len,) = _LEN.unpack_from(payload, 0)
        text = bytes(payload[4 : 4 + header_len])
        if bounded:
            _check_header(text)
        header = json.loads(text)
        offset = 4 + header_len
        data = memoryview(bytearray(payload[offset:]))  # one writable copy that every array of the frame views
        arrays, offset = [], 0
        for size in header["sizes"]:
            if type(size) is not int or size < 0 or offset + size > len(data):
                raise WireError("frame is shorter than its header says")
            arrays.append(data[offset : offset + size])
            offset += size
        return {k: _decode(v, arrays) for k, v in header["body"].items()}
    except WireError:
        raise
    except Exception as exc:  # malformed JSON, npy header, sizes, ...
        raise WireError(f"malformed frame: {safe_str(exc, 200)}") from exc


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate (which no UTF-8 writer accepts) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def valid_data(value: Any, depth: int = 0) -> Any:
    """Decoded data with every string in it (dict keys, unsupported markers too) made valid text: what a
    worker sent, made safe once for every writer of results."""
    if isinstance(value, str):
        return valid_text(value)
    if depth > MAX_DEPTH + 1:
        return value
    if isinstance(value, list):
        return [valid_data(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(valid_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return {valid_data(k, depth + 1): valid_data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, Unsupported):
        return Unsupported(valid_text(value.type_name), valid_text(value.text))
    if isinstance(value, np.ndarray) and value.dtype.kind == "U" and value.size:
        return np.vectorize(valid_text, otypes=[value.dtype])(value)
    return value


def copied(value: Any) -> Any:
    """A deep copy of plain data (arrays, lists, tuples, dicts, scalars), as ``copy.deepcopy`` makes it but
    several times quicker; anything else is deep-copied as usual. Shared arrays become separate copies, as
    they would after a trip over the wire."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [copied(v) for v in value]
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(copied(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return value
    return copy.deepcopy(value)


def arrays_in(value: Any, depth: int = 0) -> list[np.ndarray]:
    """Every numpy array inside ``value`` (lists, tuples and dict values, as the wire nests them)."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in arrays_in(v, depth + 1)]
    if isinstance(value, dict):
        return [a for v in value.values() for a in arrays_in(v, depth + 1)]
    return []


def aliases(result: Any, args: Any) -> bool:
    """Whether any array in ``result`` shares memory with an array in ``args`` (an input returned as is)."""
    inputs = arrays_in(args)
    return any(np.shares_memory(out, arg) for out in arrays_in(result) for arg in inputs)


def frame_length(prefix: bytes) -> int:
    """The payload length announced by a 4-byte prefix; refuses oversized frames."""
    length = int(_LEN.unpack(prefix)[0])
    if length > MAX_FRAME_BYTES:
        raise WireError(f"frame of {length} bytes is over the {MAX_FRAME_BYTES}-byte limit")
    return length
