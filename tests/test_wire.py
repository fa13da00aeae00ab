"""The wire format: what survives a round trip, what is refused, and what never gets executed."""
from __future__ import annotations

import io
import json
import math
import struct

import numpy as np
import pytest

from gatelab.grading import wire

_LEN = struct.Struct(">I")

# src bug (wire._encode_array): np.ascontiguousarray promotes 0-d arrays to shape (1,),
# so 0-d arrays and numpy scalars arrive as 1-element 1-d arrays.


def roundtrip(message: dict) -> dict:
    """``decode(encode(message))``, checking the outer length prefix on the way."""
    frame = wire.encode(message)
    payload = frame[4:]
    assert wire.frame_length(frame[:4]) == len(payload)
    return wire.decode(payload)


def one(value):
    return roundtrip({"v": value})["v"]


def assemble(header: dict, blobs: list[bytes] = ()) -> bytes:
    """A payload built by hand (no outer length), as a hostile or broken peer might send it."""
    text = json.dumps(header).encode()
    return _LEN.pack(len(text)) + text + b"".join(blobs)


def assert_same_array(back, original: np.ndarray) -> None:
    assert isinstance(back, np.ndarray)
    assert back.dtype == original.dtype
    assert back.shape == original.shape
    assert np.array_equal(back, original, equal_nan=original.dtype.kind in "fc")


# --- arrays -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        np.linspace(-3, 3, 12).reshape(3, 4),
        np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3),
        np.arange(10, dtype=np.int64),
        np.arange(-5, 5, dtype=np.int32),
        np.arange(200, dtype=np.uint8),
        np.array([True, False, True]),
        np.array([1 + 2j, -3j]),
        pytest.param(np.array(2.5), id="float64[]"),
        pytest.param(np.array(7, dtype=np.int16), id="int16[]"),
        np.zeros((0,)),  # empty
        np.zeros((2, 0, 3), dtype=np.float32),  # empty, 3-D
        np.arange(24, dtype=np.float64).reshape(2, 3, 4),  # 3-D
        np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310]),
        np.arange(6, dtype=">f8"),  # big-endian stays big-endian
    ],
    ids=lambda a: f"{a.dtype}{list(a.shape)}",
)
def test_array_keeps_dtype_shape_and_values(array):
    """An array of plain numbers comes back with the same dtype, shape and values."""
    assert_same_array(one(array), array)


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(20.0).reshape(4, 5)[:, ::2],
        lambda: np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1),
        lambda: np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)),
        lambda: np.arange(10)[::-1],
        lambda: np.broadcast_to(np.arange(3.0), (4, 3)),  # zero strides, read-only
    ],
    ids=["strided", "transposed", "fortran", "reversed", "broadcast"],
)
def test_non_contiguous_array_roundtrips(make):
    """A strided, transposed, Fortran-ordered or broadcast view comes back with the same values."""
    array = make()
    assert not array.flags.c_contiguous
    back = one(array)
    assert_same_array(back, array)
    assert back.flags.c_contiguous


def test_decoded_arrays_are_writable_and_independent():
    """A decoded array is a writable copy: changing it touches neither the original nor the others."""
    x = np.arange(4.0)
    back = roundtrip({"a": x, "b": x})
    back["a"][0] = 99.0
    assert x[0] == 0.0
    assert back["b"][0] == 0.0


def test_copied_is_a_deep_copy_of_plain_data():
    """``copied`` gives equal data that shares no array or container with the original (what the oracle hands
    each judge), and deep-copies anything else as copy.deepcopy would."""
    original = [np.arange(4.0).reshape(2, 2), {"W": np.ones(3), "n": 2, "s": "x"}, (np.float32(1.5), None),
                [1.0, True], {"other": {1, 2}}]
    copy_ = wire.copied(original)
    assert repr(copy_) == repr(original)
    copy_[0][0, 0] = 9.0
    copy_[1]["W"][0] = 9.0
    copy_[1]["n"] = 3
    copy_[3].append(0)
    copy_[4]["other"].add(3)
    assert original[0][0, 0] == 0.0 and original[1]["n"] == 2 and original[1]["W"][0] == 1.0
    assert original[3] == [1.0, True] and original[4]["other"] == {1, 2}
    assert type(copy_[2]) is tuple and copy_[2][0].dtype == np.float32


@pytest.mark.parametrize(
    "scalar", [np.float64(1.25), np.float32(-2.5), np.int64(-7), np.int8(3), np.uint16(65535), np.bool_(True)],
    ids=lambda s: type(s).__name__,
)
def test_numpy_scalar_keeps_dtype_and_value(scalar):
    """A numpy scalar comes back as a 0-d array of the same dtype and value."""
    back = one(scalar)
    assert isinstance(back, np.ndarray) and back.ndim == 0
    assert back.dtype == scalar.dtype
    assert back == scalar


# --- plain Python data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [None, True, False, 0, -1, 2**63 - 1, -(2**63 - 1), 1.5, -0.0, "", "héllo ✓ \x00 \ud800"],
    ids=repr,
)
def test_plain_value_roundtrips_exactly(value):
    """None, bools, ints inside int64, floats and any str come back equal and of the same type."""
    back = one(value)
    assert type(back) is type(value)
    assert back == value
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_float_roundtrips(value):
    """inf and -inf survive even though JSON has no spelling for them."""
    assert one(value) == value


def test_nan_float_roundtrips():
    """NaN comes back as a float NaN (the frame header is still strict JSON)."""
    frame = wire.encode({"v": math.nan, "w": [math.nan, math.inf]})
    header_len = _LEN.unpack_from(frame, 4)[0]
    json.loads(frame[8 : 8 + header_len], parse_constant=lambda c: pytest.fail(f"bare {c} in header"))
    back = wire.decode(frame[4:])
    assert isinstance(back["v"], float) and math.isnan(back["v"])
    assert math.isnan(back["w"][0]) and back["w"][1] == math.inf


@pytest.mark.parametrize("value", [2**63, -(2**63), 3**50, -(10**30)], ids=repr)
def test_int_outside_int64_comes_back_as_nearest_float(value):
    """An int too big for int64 comes back as the nearest float (documented lossy path)."""
    back = one(value)
    assert isinstance(back, float)
    assert back == float(value)


@pytest.mark.parametrize("value", [10**400, -(10**400)], ids=["+10**400", "-10**400"])
def test_int_beyond_float_range_does_not_break_encoding(value):
    """An int too big even for a float is still encoded (as inf or as unsupported), never raises."""
    back = one(value)
    assert isinstance(back, (float, wire.Unsupported))


def test_nested_containers_keep_their_kinds():
    """Tuples stay tuples, lists stay lists and str-keyed dicts stay dicts, arrays included, at any level."""
    x = np.arange(3.0)
    message = {
        "args": (1, [2.5, {"b": None, "c": (x, [x * 2])}], ()),
        "empty": {"l": [], "t": (), "d": {}},
        "keys": {"t": "not a node", "v": 1, "i": 0},  # keys that look like the wire's own
    }
    back = roundtrip(message)
    args = back["args"]
    assert type(args) is tuple and type(args[1]) is list and type(args[1][1]) is dict and args[2] == ()
    assert args[0] == 1 and args[1][0] == 2.5 and args[1][1]["b"] is None
    inner = args[1][1]["c"]
    assert type(inner) is tuple and type(inner[1]) is list
    assert_same_array(inner[0], x)
    assert_same_array(inner[1][0], x * 2)
    assert back["empty"] == {"l": [], "t": (), "d": {}}
    assert type(back["empty"]["t"]) is tuple
    assert back["keys"] == {"t": "not a node", "v": 1, "i": 0}


# --- what is not plain data comes back as Unsupported -------------------------------------------


class Custom:
    def __str__(self) -> str:
        return "a custom thing"


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


def _generator():
    yield 1


@pytest.mark.parametrize(
    "value, type_name",
    [
        (np.array([1, "a", None], dtype=object), "ndarray"),
        (np.array(None, dtype=object), "ndarray"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]), "ndarray"),  # structured
        (_generator(), "generator"),
        (Custom(), "Custom"),
        (Unprintable(), "Unprintable"),
        ({1: "a", "b": 2}, "dict"),
        ({(1, 2): 3}, "dict"),
        ({1, 2}, "set"),
        (b"bytes", "bytes"),
        (lambda: 0, "function"),
        (Custom, "type"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_non_plain_value_comes_back_as_unsupported_naming_its_type(value, type_name):
    """Objects, object arrays, generators, odd dicts ... arrive as an Unsupported that names the type."""
    back = one(value)
    assert isinstance(back, wire.Unsupported)
    assert back.type_name == type_name
    assert isinstance(back.text, str) and len(back.text) <= 120
    assert type_name in repr(back)


def test_unsupported_inside_containers_leaves_neighbours_intact():
    """An unsupported value deep inside a list only replaces itself."""
    back = one([1, (Custom(), np.arange(2))])
    assert back[0] == 1
    assert back[1][0] == wire.Unsupported("Custom", "a custom thing")
    assert_same_array(back[1][1], np.arange(2))


def test_unprintable_object_is_named_not_raised():
    """An object whose __str__ raises is still sent, with a placeholder text."""
    back = one(Unprintable())
    assert back.text == "<unprintable Unprintable>"


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_self_referencing_container_terminates(kind):
    """A list or dict that contains itself is cut at MAX_DEPTH instead of recursing forever."""
    if kind == "list":
        value: object = []
        value.append(value)
    else:
        value = {}
        value["me"] = value
    back = one(value)
    depth = 0
    while not isinstance(back, wire.Unsupported):
        back = back[0] if kind == "list" else back["me"]
        depth += 1
    assert back.type_name == "nesting"
    assert depth == wire.MAX_DEPTH + 1


# --- malformed payloads -------------------------------------------------------------------------


def test_every_truncation_of_a_payload_raises_wire_error():
    """A payload cut anywhere (header, array bytes, even the length) is refused with WireError."""
    payload = wire.encode({"v": (1, np.arange(5.0), "x"), "w": np.eye(2, dtype=np.float32)})[4:]
    for cut in range(len(payload)):
        with pytest.raises(wire.WireError):
            wire.decode(payload[:cut])


@pytest.mark.parametrize(
    "payload",
    [
        _LEN.pack(5) + b"{nope",
        _LEN.pack(4) + b"\xff\xfe\xfd\xfc",
        _LEN.pack(2**31) + b"{}",
        assemble({"body": {"v": 1}}),  # no sizes
        assemble({"sizes": []}),  # no body
        assemble({"body": [1, 2], "sizes": []}),
        assemble({"body": {"v": [1, 2]}, "sizes": []}),  # a raw list is not a node
        assemble({"body": {"v": {"no": "tag"}}, "sizes": []}),
        assemble({"body": {"v": {"t": "pickle", "v": "x"}}, "sizes": []}),
        assemble({"body": {"v": {"t": "array", "i": 0}}, "sizes": []}),  # no such array
        assemble({"body": {"v": {"t": "array", "i": "0"}}, "sizes": []}),
        assemble({"body": {"v": {"t": "float", "v": "not a float"}}, "sizes": []}),
        assemble({"body": {"v": {"t": "tuple"}}, "sizes": []}),
        assemble({"body": {"v": {"t": "array", "i": 0}}, "sizes": [10]}, [b"\x93NUMPY" + b"\x00" * 4]),
        assemble({"body": {"v": {"t": "array", "i": 0}}, "sizes": [5]}, [b"hello"]),  # not npy
        assemble({"body": {"v": 1}, "sizes": [-1]}),
        _LEN.pack(1_000_000) + b"[" * 1_000_000,  # deep enough to blow json's recursion
    ],
    ids=lambda p: p[4:40].decode("utf-8", "replace"),
)
def test_garbage_payload_raises_wire_error(payload):
    """Garbage JSON, a header of the wrong shape, unknown nodes and non-npy blobs raise WireError."""
    with pytest.raises(wire.WireError):
        wire.decode(payload)


def test_too_deeply_nested_header_raises_wire_error():
    """A hand-built header nested past MAX_DEPTH is refused, not decoded recursively."""
    node: dict = {"t": "list", "v": [1]}
    for _ in range(wire.MAX_DEPTH + 3):
        node = {"t": "list", "v": [node]}
    with pytest.raises(wire.WireError, match="nested"):
        wire.decode(assemble({"body": {"v": node}, "sizes": []}))


UNPICKLED: list[str] = []


def _record_unpickle() -> str:
    UNPICKLED.append("unpickled!")
    return "side effect"


class Trap:
    """Unpickling this runs _record_unpickle: proof that the decoder executed pickled code."""

    def __reduce__(self):
        return (_record_unpickle, ())


def test_pickled_object_array_is_refused_and_never_unpickled():
    """An npy blob holding a pickled object array raises WireError and its pickle never runs."""
    buffer = io.BytesIO()
    np.save(buffer, np.array([Trap(), 1], dtype=object), allow_pickle=True)
    blob = buffer.getvalue()
    assert np.load(io.BytesIO(blob), allow_pickle=True)[0] == "side effect"  # the trap works...
    UNPICKLED.clear()
    payload = assemble({"body": {"v": {"t": "array", "i": 0}}, "sizes": [len(blob)]}, [blob])
    frame = _LEN.pack(len(payload)) + payload
    assert wire.frame_length(frame[:4]) == len(payload)
    with pytest.raises(wire.WireError):
        wire.decode(frame[4:])
    assert UNPICKLED == []  # ...but decoding never sprang it


# --- frame length and safe_str ------------------------------------------------------------------


def test_frame_length_accepts_the_limit_and_refuses_beyond():
    """frame_length returns the announced size up to MAX_FRAME_BYTES and raises WireError past it."""
    assert wire.frame_length(_LEN.pack(0)) == 0
    assert wire.frame_length(_LEN.pack(wire.MAX_FRAME_BYTES)) == wire.MAX_FRAME_BYTES
    for size in (wire.MAX_FRAME_BYTES + 1, 2**32 - 1):
        with pytest.raises(wire.WireError, match="limit"):
            wire.frame_length(_LEN.pack(size))


class _RaisesBase:
    def __str__(self):
        raise KeyboardInterrupt


class _ReturnsNonStr:
    def __str__(self):
        return 42


@pytest.mark.parametrize("value", [Unprintable(), _RaisesBase(), _ReturnsNonStr()],
                         ids=["Exception", "BaseException", "non-str"])
def test_safe_str_never_raises(value):
    """safe_str of an object whose __str__ raises (even a BaseException) gives a placeholder."""
    assert wire.safe_str(value) == f"<unprintable {type(value).__name__}>"


def test_safe_str_truncates_to_the_limit():
    """safe_str cuts long text to exactly ``limit`` characters, ending in an ellipsis."""
    assert wire.safe_str("x" * 10) == "x" * 10
    assert wire.safe_str("x" * 300) == "x" * 300
    cut = wire.safe_str("y" * 1000, limit=50)
    assert len(cut) == 50 and cut.endswith("...") and cut.startswith("y" * 47)
    assert len(wire.safe_str(list(range(10_000)))) == 300


def test_unsupported_text_is_bounded():
    """An object with a huge str is sent with its text cut, so frames stay small."""
    class Huge:
        def __str__(self):
            return "z" * 1_000_000

    back = one(Huge())
    assert back.type_name == "Huge" and len(back.text) == 120


@pytest.mark.parametrize("node, blob", [
    ({"t": "array", "i": 0, "dtype": "|O", "shape": [1]}, b"\x00" * 8),
    ({"t": "array", "i": 0, "dtype": "|V8", "shape": [1]}, b"\x00" * 8),
    ({"t": "array", "i": 0, "dtype": [["a", "<f8"]], "shape": [1]}, b"\x00" * 8),
    ({"t": "array", "i": 0, "dtype": "<f8", "shape": [2]}, b"\x00" * 8),
    ({"t": "array", "i": 0, "dtype": "<f8", "shape": [-1]}, b"\x00" * 8),
    ({"t": "array", "i": 0, "dtype": "<f8", "shape": [True]}, b"\x00" * 8),
], ids=["object", "void", "structured", "short-bytes", "negative-shape", "bool-shape"])
def test_array_header_that_could_hold_objects_or_lies_is_refused(node, blob):
    """Object, void and structured dtypes and bytes that do not match the shape raise WireError."""
    with pytest.raises(wire.WireError):
        wire.decode(assemble({"body": {"v": node}, "sizes": [len(blob)]}, [blob]))


def _raw_frame(header: bytes) -> bytes:
    """The payload of a frame whose JSON header is ``header`` and that carries no arrays."""
    return _LEN.pack(len(header)) + header


def test_a_header_bomb_is_refused_before_it_is_parsed():
    """Two million ``{}`` in a worker's header (about 130 MB of dicts if parsed) are refused while the decode's
    own allocations stay within a few times the frame's bytes; the grader's trusted decode still parses them."""
    import tracemalloc
    header = b'{"body":{"status":"ok","value":[' + b",".join([b"{}"] * 2_000_000) + b']},"sizes":[]}'
    payload = _raw_frame(header)
    tracemalloc.start()
    try:
        with pytest.raises(wire.WireError, match="the reply was too large: 2000004 lists and dicts"):
            wire.decode(payload)
        bounded_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        with pytest.raises(wire.WireError):  # parsed in full (then refused as not a wire node)
            wire.decode(payload, bounded=False)
        unbounded_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert bounded_peak < 4 * len(payload) < unbounded_peak, (bounded_peak, len(payload), unbounded_peak)


@pytest.mark.parametrize(("body", "says"), [
    (b'"v":' + b"[" * 60 + b"]" * 60, "the reply was too deep: nested 62 levels"),
    (b'"v":[' + b",".join([b"1"] * 600_000) + b"]", r"the reply was too large: about 60000\d values"),
    (b'"v":' + b"]" * 60_000, r"the reply was too large: 6000\d lists and dicts"),
], ids=["deep", "many values", "unbalanced"])
def test_header_limits_on_depth_values_and_brackets(body, says):
    """Each limit refuses with a message that says which."""
    with pytest.raises(wire.WireError, match=says):
        wire.decode(_raw_frame(b'{"body":{' + body + b'},"sizes":[]}'))


def test_brackets_and_commas_inside_strings_are_not_counted():
    """Printed output full of brackets and commas is one string, not containers."""
    text = "[[1, 2], [3, 4]], " * 40_000
    assert one(text) == text


def test_the_deepest_value_the_worker_may_send_is_read():
    """A value nested as deep as the encoder allows (and its marker past that) stays within the header limits."""
    value: list = []
    for _ in range(wire.MAX_DEPTH + 3):
        value = [value]
    decoded = one(value)
    for _ in range(wire.MAX_DEPTH + 1):
        decoded = decoded[0]
    assert isinstance(decoded, wire.Unsupported)


def test_valid_data_replaces_lone_surrogates_everywhere():
    """Strings, dict keys, unsupported markers and string arrays lose their lone surrogates; nothing else
    changes, arrays of numbers stay the very same objects."""
    numbers = np.arange(3.0)
    sent = one({"k\ud800": ["x\udfff", ("\ud800",)], "n": numbers, "s": np.array(["a\udc80"])})
    sent["u"] = wire.Unsupported("gen\ud800", "text\udfff")
    sent["n"] = numbers
    clean = wire.valid_data(sent)
    assert clean["k\ufffd"] == ["x\ufffd", ("\ufffd",)]
    assert clean["u"] == wire.Unsupported("gen\ufffd", "text\ufffd") and clean["n"] is numbers
    assert clean["s"].tolist() == ["a\ufffd"]
    json.dumps(clean, default=repr, ensure_ascii=False).encode("utf-8")
