"""The contract as data: it loads, validates with file:line, draws inputs, and matches the curriculum."""
from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gatelab.course import contract as contracts
from gatelab.course.case import Case
from gatelab.course.expressions import ExpressionError, parse
from gatelab.errors import ConfigError
from gatelab.grading.cases import make_args
from gatelab.grading.reference import Reference

ROOT = Path(__file__).resolve().parent.parent
# The shipped course's student-facing contract (shared/curriculum.md): modules, functions, argument names.
CURRICULUM = {
    "activations.sigmoid": ("z",), "activations.sigmoid_derivative": ("z",), "activations.tanh_derivative": ("z",),
    "rnn.rnn_cell_forward": ("x_t", "h_prev", "params"), "rnn.rnn_forward": ("x", "h0", "params"),
    "lstm.forget_gate": ("x_t", "h_prev", "params"), "lstm.input_gate": ("x_t", "h_prev", "params"),
    "lstm.candidate_cell": ("x_t", "h_prev", "params"), "lstm.output_gate": ("x_t", "h_prev", "params"),
    "lstm.cell_state": ("c_prev", "f", "i", "c_tilde"), "lstm.hidden_state": ("o", "c_next"),
    "lstm.lstm_cell_forward": ("x_t", "h_prev", "c_prev", "params"), "lstm.lstm_forward": ("x", "h0", "params"),
    "gru.update_gate": ("x_t", "h_prev", "params"), "gru.reset_gate": ("x_t", "h_prev", "params"),
    "gru.candidate_hidden": ("x_t", "h_prev", "r", "params"), "gru.hidden_state": ("h_prev", "z", "h_tilde"),
    "gru.gru_cell_forward": ("x_t", "h_prev", "params"), "gru.gru_forward": ("x", "h0", "params"),
    "gradients.clip_by_value": ("grads", "max_value"), "gradients.clip_by_global_norm": ("grads", "max_norm"),
    "gradients.rnn_step_jacobian": ("h_next", "params"),
    "gradients.gradient_norms_through_time": ("x", "h0", "params"),
    # "Backward passes, gradient flow and training (extension)"
    "rnn.rnn_cell_backward": ("dh_next", "x_t", "h_prev", "params"), "rnn.rnn_backward": ("dh", "x", "h0", "params"),
    "lstm.lstm_cell_backward": ("dh_next", "dc_next", "x_t", "h_prev", "c_prev", "params"),
    "lstm.lstm_backward": ("dh", "x", "h0", "params"),
    "gru.gru_cell_backward": ("dh_next", "x_t", "h_prev", "params"), "gru.gru_backward": ("dh", "x", "h0", "params"),
    "gradients.state_gradient_norms": ("cell", "x", "h0", "params"),
    "gradients.cell_gradient_norms": ("x", "h0", "params"),
    "gradients.sgd_step": ("params", "grads", "lr", "max_norm"),
    "training.softmax": ("z",), "training.cross_entropy": ("logits", "y"),
    "training.train_step": ("cell", "params", "x", "y", "lr", "max_norm"),
}
# What each backward function returns (the curriculum's keys), and its parameter gradients' keys.
RETURNED_KEYS = {
    "rnn.rnn_cell_backward": {"dx_t", "dh_prev", "dWh", "dbh"}, "rnn.rnn_backward": {"dx", "dh0", "dWh", "dbh"},
    "lstm.lstm_cell_backward": {"dx_t", "dh_prev", "dc_prev", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"},
    "lstm.lstm_backward": {"dx", "dh0", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"},
    "gru.gru_cell_backward": {"dx_t", "dh_prev", "dWz", "dbz", "dWr", "dbr", "dWh", "dbh"},
    "gru.gru_backward": {"dx", "dh0", "dWz", "dbz", "dWr", "dbr", "dWh", "dbh"},
}
PARAMETER_KEYS = {"rnn": ["Wh", "bh"], "lstm": ["Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo"],
                  "gru": ["Wz", "bz", "Wr", "br", "Wh", "bh"]}
SMALL = Case("small", (("n_x", 3), ("n_h", 4), ("m", 5), ("T", 2), ("scale", 1.0)))


@pytest.fixture(scope="module")
def shipped() -> contracts.Contract:
    return contracts.load(ROOT / "grader")


def test_the_shipped_contract_says_what_the_curriculum_says(shipped):
    """Modules, functions and argument names are the curriculum's, in its order; parameter dicts carry its keys;
    every array is float64 of the documented shape."""
    assert {f.qualname: f.arg_names for f in shipped.functions} == CURRICULUM
    assert shipped.modules == ("activations", "rnn", "lstm", "gru", "gradients", "training")
    for fn in shipped.functions:
        args = dict(zip(fn.arg_names, make_args(shipped, fn, SMALL, 0)))
        if "params" in args and fn.module in PARAMETER_KEYS:
            assert list(args["params"]) == PARAMETER_KEYS[fn.module], fn.qualname
            assert all(args["params"][k].shape == ((4, 7) if k.startswith("W") else (4, 1)) for k in args["params"])
        for name, value in args.items():
            if isinstance(value, np.ndarray):  # labels are integers; every other array is float64
                assert value.dtype == (np.int64 if name == "y" else np.float64), (fn.qualname, name)
        if "x" in args:
            assert args["x"].shape[0] == 3 and args["x"].shape[2] == 2


def test_every_function_exists_in_the_reference_with_its_argument_names(shipped):
    """solutions/ defines every contract function with the contract's argument names, in order."""
    reference = Reference(ROOT / "solutions", shipped.modules)
    for fn in shipped.functions:
        assert tuple(inspect.signature(reference.function(fn.qualname)).parameters) == fn.arg_names


def test_the_backward_functions_return_the_curriculum_keys(shipped):
    """Each backward function of the reference returns exactly the keys the curriculum lists, every gradient
    the shape of its variable, and the contract's output says so."""
    reference = Reference(ROOT / "solutions", shipped.modules)
    for qualname, keys in RETURNED_KEYS.items():
        fn = shipped.lookup(qualname)
        args = dict(zip(fn.arg_names, make_args(shipped, fn, SMALL, 3)))
        grads = reference.function(qualname)(*args.values())
        assert set(grads) == keys, qualname
        for key, value in grads.items():
            name = key[1:]
            variable = args["params"][name] if name in args["params"] else args.get(name, args.get("x"))
            assert value.shape == variable.shape and value.dtype == np.float64, (qualname, key)
        assert all(f"{key} (" in fn.returns[0].symbols for key in keys), qualname


def _flat(value) -> np.ndarray:
    """Every number in a result (arrays, numbers, tuples and dicts of them), in order."""
    if isinstance(value, dict):
        return np.concatenate([_flat(value[k]) for k in sorted(value)])
    if isinstance(value, tuple):
        return np.concatenate([_flat(v) for v in value])
    return np.ravel(value)


def test_reference_composites_run_on_served_parts(shipped):
    """Run in a worker with its parts served by the grader, each reference composite asks for every part
    (over the cells a choosing argument picks) and returns what it returns on its own: parts served by name
    reach code that calls them by name."""
    from gatelab.grading.sandbox import Limits, Sandbox

    reference = Reference(ROOT / "solutions", shipped.modules)
    asked: dict[str, set[str]] = {}
    with Sandbox(ROOT / "solutions", Limits(timeout=10)) as box:
        for fn, cell in ((f, cell) for f in shipped.functions if f.parts for cell in (0, 1, 2)):
            case = Case("small", (*SMALL.values, ("cell", float(cell)), ("K", 4.0)))
            args = make_args(shipped, fn, case, 1)
            plain = reference.function(fn.qualname)(*args)
            heard = asked.setdefault(fn.qualname, set())

            def server(name, heard=heard):
                def serve(*a):
                    heard.add(name)
                    return reference.function(name)(*a)
                return serve

            outcome = box.call(fn.module, fn.name, args, {p: server(p) for p in fn.parts})
            assert outcome.ok, (fn.qualname, outcome.status, outcome.error)
            assert np.allclose(_flat(plain), _flat(outcome.value)), fn.qualname
    for fn in (f for f in shipped.functions if f.parts):
        assert asked[fn.qualname] == set(fn.parts), fn.qualname


def test_draws_follow_the_contract():
    """Shapes are expressions over the case's dimensions; transforms, saturation and dicts apply as written."""
    contract = write_contract(GOOD)
    fn = contract.lookup("m.f")
    case = Case("big", (("d", 2), ("n", 6), ("scale", 100.0)))
    x, table, bound = make_args(contract, fn, case, 7)
    assert x.shape == (2, 6) and np.all((x > 0) & (x < 1))
    assert table["w"].shape == (2, 8) and table["b"].shape == (2, 1)
    assert bound == 2.0
    z = make_args(contract, contract.lookup("m.g"), case, 7)[0]
    assert np.sum(np.abs(z) == 100.0) == 8 and np.all(np.abs(z.flat[::3]) <= 8)
    again = make_args(contract, fn, case, 7)
    assert np.array_equal(x, again[0]) and not np.array_equal(x, make_args(contract, fn, case, 8)[0])


GOOD = """\
dimensions:
  d: {about: features, role: features}
  n: {about: examples, role: examples}
variables: {scale: 1.0}
inputs:
  probabilities: {shape: [d, n], normal: 1, then: 1 / (1 + exp(-x))}
  wide: {shape: [d, n], normal: 3, saturate: {when: scale > 1, magnitude: scale, spare_every: 3, spare: [-8, 8]}}
  table:
    let: {s: 0.5 * scale}
    dict:
      w: {shape: [d, n + 2], normal: s / sqrt(n)}
      b: {shape: [d, 1], normal: s}
  bound: {value: 2}
modules:
  m:
    f:
      args: {p: probabilities, t: table, k: bound}
      returns: {name: y, shape: [d, n], range: [0, 1], hints: {outside: "Squash it."}}
    g:
      args: {z: wide}
      returns: {name: z2, like: z}
      parts: [m.f]
"""


def write_contract(text: str, folder: Path | None = None) -> contracts.Contract:
    import tempfile

    folder = folder or Path(tempfile.mkdtemp(prefix="gatelab-contract-"))
    (folder / contracts.CONTRACT_NAME).write_text(textwrap.dedent(text))
    return contracts.load(folder)


@pytest.mark.parametrize("old, new, says, line", [
    ("role: features}\n  n:", "role: feature}\n  n:", "Did you mean 'features'", 2),
    ("args: {p: probabilities,", "args: {p: probabilitis,", "Did you mean 'probabilities'", 17),
    ("parts: [m.f]", "parts: [m.ff]", "Did you mean 'm.f'", 22),
    ("normal: s / sqrt(n)", "normal: s / sqrt(nn)", "Did you mean 'n'", 11),
    ("normal: s / sqrt(n)", "normal: __import__('os')", "only calls of numpy", 11),
    ("then: 1 / (1 + exp(-x))", "then: x.real", "Attribute is not allowed", 6),
    ("{value: 2}", "{shape: [d], value: 2, normal: 1}", "exactly one of normal, uniform, integers, value", 13),
    ("returns: {name: z2, like: z}", "returns: {name: z2, like: q}", "'q' is not an argument", 21),
    ("hints: {outside: \"Squash it.\"}", "hints: {outsid: \"Squash it.\"}", "Did you mean 'outside'", 18),
])
def test_contract_errors_cite_file_and_line(tmp_path, old, new, says, line):
    """A mistake in the contract names the problem and where it is."""
    _cites(GOOD, old, new, says, line, tmp_path)


def _cites(text: str, old: str, new: str, says: str, line: int, folder: Path) -> None:
    """``text`` with ``old`` made ``new`` is refused with ``says``, at contract.yaml:``line``."""
    assert text.count(old) == 1
    with pytest.raises(ConfigError, match=says) as caught:
        write_contract(text.replace(old, new), folder)
    assert f"contract.yaml:{line}" in str(caught.value)


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "open('f')", "(lambda: 1)()", "[1, 2]",
                                  "'text'", "x.__class__", "{1: 2}"])
def test_expressions_refuse_anything_but_arithmetic(text):
    """An expression in an assignment file cannot run code: only numbers, names, arithmetic and math calls."""
    with pytest.raises(ExpressionError):
        parse(text, ["x"])


def test_expressions_compute():
    """Arithmetic, comparisons, conditionals and numpy's elementwise functions work as in Python."""
    assert parse("a if a > 1 else 1.5", ["a"])({"a": 3}) == 3
    assert parse("sqrt(n + 5) * 2", ["n"])({"n": 4}) == 6.0
    assert np.allclose(parse("tanh(x)", ["x"])({"x": np.zeros(3)}), 0.0)


def test_the_engine_names_nothing_of_the_course(shipped):
    """No module, function, argument, parameter key or dimension of the shipped course or of the attention
    example, and no activation, is named anywhere in src/gatelab: code, messages, help and templates."""
    import re

    names: set[str] = set()
    for course in (shipped, contracts.load(ROOT / "examples" / "attention" / "grader")):
        names |= set(course.modules) | {f.name for f in course.functions}
        names |= {a for f in course.functions for a in f.arg_names if len(a) > 1}
        names |= {d.name for d in course.dimensions if len(d.name) > 1}
        names |= {k for kind in course.kinds.values() for k, _ in kind.entries}
    names |= {"sigmoid", "tanh", "softmax", "lstm", "gru", "rnn", "gate"}
    names -= {"input", "sequence", "bound", "params", "grads", "state", "cell", "scores", "mask", "by"}  # plain words
    pattern = re.compile(rf"(?<![A-Za-z0-9_])({'|'.join(map(re.escape, sorted(names)))})(?![A-Za-z0-9_])", re.I)
    found = [f"{path.relative_to(ROOT)}:{n}: {m.group(0)}"
             for path in sorted((ROOT / "src" / "gatelab").rglob("*")) if path.suffix in (".py", ".j2")
             for n, line in enumerate(path.read_text().splitlines(), 1) for m in [pattern.search(line)] if m]
    assert found == []


CHOOSING = """\
dimensions:
  d: {about: features, role: features}
  n: {about: examples, role: examples}
variables: {pick: 0, K: 3}
inputs:
  small: {dict: {w: {shape: [d, d], normal: 1}}}
  large: {dict: {w: {shape: [d, d], normal: 1}, v: {shape: [d, 1], normal: 1}}}
  which: {about: which model, by: pick, texts: [small, large]}
  weights: {by: pick, kinds: [small, large]}
  labels: {shape: [n], integers: [0, K]}
  upstream: {shape: [d, n], normal: 1}
  x: {shape: [d, n], normal: 1}
modules:
  m:
    f:
      args: {name: which, params: weights, y: labels}
      returns: {name: loss, number: true}
    forward:
      args: {x: x, params: small}
      returns: {name: y, shape: [d, n]}
    backward:
      args: {dy: upstream, x: x, params: small}
      returns: {name: grads, keys: {dx: [d, n], dw: [d, d]}}
      gradient_of: {function: m.forward, upstream: [dy]}
"""


def test_a_case_variable_picks_a_word_and_a_kind_and_labels_are_integers():
    """``by`` picks one of ``texts`` or ``kinds`` by the case's value (0 first); ``integers`` draws labels in
    [low, high); a dict result with ``keys`` names each key's shape; ``gradient_of`` is read."""
    contract = write_contract(CHOOSING)
    fn = contract.lookup("m.f")
    first = make_args(contract, fn, Case("a", (("d", 2), ("n", 7), ("pick", 0.0))), 1)
    second = make_args(contract, fn, Case("b", (("d", 2), ("n", 7), ("pick", 1.0))), 1)
    assert first[0] == "small" and set(first[1]) == {"w"}
    assert second[0] == "large" and set(second[1]) == {"w", "v"}
    assert first[2].dtype == np.int64 and first[2].shape == (7,) and set(first[2]) <= {0, 1, 2}
    assert contract.dimensions_used(fn) == {"d", "n"}
    backward = contract.lookup("m.backward")
    assert backward.returns[0].symbols == "a dict: dx (d, n), dw (d, d)"
    assert backward.gradient_of == contracts.GradientOf("m.forward", ("dy",))
    assert contract.matching(contract.kinds["weights"], {"w": 0, "v": 1}).name == "large"


@pytest.mark.parametrize("old, new, says, line", [
    ("by: pick, texts", "by: pik, texts", "Did you mean 'pick'", 8),
    ("kinds: [small, large]", "kinds: [small, larg]", "Did you mean 'large'", 9),
    ("by: pick, texts: [small, large]", "by: pick", "exactly one of texts, kinds", 8),
    ("integers: [0, K]", "integers: [0]", r"integers must be \[low, high\]", 10),
    ("upstream: [dy]", "upstream: [x]", "'x' is not an argument of m.backward that m.forward does not take", 24),
    ("function: m.forward,", "function: m.forwrd,", "Did you mean 'm.forward'", 24),
    ("args: {dy: upstream, x: x, params: small}", "args: {dy: upstream, params: small}", "m.forward takes x", 24),
])
def test_choosing_kinds_and_gradients_cite_file_and_line(tmp_path, old, new, says, line):
    """Mistakes in the newer contract fields name the problem and where it is."""
    _cites(CHOOSING, old, new, says, line, tmp_path)


def test_a_case_must_pick_one_of_the_choices(tmp_path):
    """A case whose ``pick`` is not 0 .. count-1 is refused in config.yaml, with its line."""
    from gatelab.course import config as configs
    from gatelab.yamlsource import YamlSource

    contract = write_contract(CHOOSING, tmp_path)
    (tmp_path / "config.yaml").write_text("cases:\n  a: {d: 2, n: 3, pick: 2}\n")
    doc = YamlSource(tmp_path / "config.yaml")
    with pytest.raises(ConfigError, match=r"picks by pick, which must be 0 \.\. 1") as caught:
        configs._cases(doc, doc.mapping(doc.root, "config")["cases"], contract)
    assert "config.yaml:2" in str(caught.value)
