"""The mistake catalog: loading, validation with file:line, matching, and the audit that checks it."""
from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from conftest import COURSE
from gatelab.cli import main
from gatelab.course import catalog, config
from gatelab.course import contract as contracts
from gatelab.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = contracts.load(COURSE / "grader")
GOOD_PY = "import numpy as np\n\ndef tanh_gate(ref, x_t, h_prev, params):\n" \
          "    return np.tanh(params['Wf'] @ np.concatenate([h_prev, x_t]) + params['bf'])\n"
GOOD_YAML = """\
- id: demo-forget-tanh
  function: lstm.forget_gate
  formula: tanh_gate
  feedback: Your forget gate uses tanh.
  lesson: "LSTM: gates"
"""


def write_catalog(folder: Path, yaml_text: str, py_text: str = GOOD_PY, name: str = "demo") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(textwrap.dedent(yaml_text))
    (folder / f"{name}.py").write_text(py_text)
    return folder


def test_shipped_catalog_is_large_and_covers_every_function():
    """The shipped catalog has at least 40 mistakes and one for every function of the curriculum."""
    shipped = contracts.load(COURSE / "grader")
    loaded = catalog.load(COURSE / "grader" / "mistakes", shipped)
    assert len(loaded.mistakes) >= 40
    assert {m.function for m in loaded.mistakes} == {f.qualname for f in shipped.functions}


def test_valid_entry_loads(tmp_path):
    """An entry with its formula next to it loads with its place."""
    loaded = catalog.load(write_catalog(tmp_path, GOOD_YAML), SHIPPED)
    (mistake,) = loaded.mistakes
    assert mistake.id == "demo-forget-tanh" and mistake.where.endswith("demo.yaml:1")


@pytest.mark.parametrize("yaml_text, py_text, message, line", [
    (GOOD_YAML.replace("lstm.forget_gate", "lstm.forgetgate"), GOOD_PY, "Did you mean 'lstm.forget_gate'", 2),
    (GOOD_YAML.replace("formula: tanh_gate", "formula: tanh_gat"), GOOD_PY, "Did you mean 'tanh_gate'", 3),
    (GOOD_YAML.replace("  lesson: \"LSTM: gates\"\n", ""), GOOD_PY, "lacks lesson", 1),
    (GOOD_YAML + "  severity: high\n", GOOD_PY, "unknown key 'severity'", 6),
    (GOOD_YAML + GOOD_YAML, GOOD_PY, "duplicate mistake id 'demo-forget-tanh'", 6),
    ("- id: [\n", GOOD_PY, "not valid YAML", 2),
    (GOOD_YAML, "def broken(:\n", "cannot load the mistake formulas", None),
    ("id: x\n", GOOD_PY, "must be a list", 1),
])
def test_catalog_errors_cite_file_and_line(tmp_path, yaml_text, py_text, message, line):
    """Each broken catalog names the problem and where it is."""
    folder = write_catalog(tmp_path, yaml_text, py_text)
    with pytest.raises(ConfigError, match=message) as caught:
        catalog.load(folder, SHIPPED)
    if line:
        assert f"demo.yaml:{line}" in str(caught.value)


def test_missing_formula_file_is_reported(tmp_path):
    """A YAML file without its .py companion says which file is missing."""
    folder = write_catalog(tmp_path, GOOD_YAML)
    (folder / "demo.py").unlink()
    with pytest.raises(ConfigError, match="demo.py, which does not exist"):
        catalog.load(folder, SHIPPED)


def _assignment_with_catalog(make_assignment, yaml_text: str, py_text: str) -> Path:
    root = make_assignment()
    mistakes = root / "grader" / "mistakes"
    for path in mistakes.glob("*"):
        path.unlink()
    write_catalog(mistakes, yaml_text, py_text)
    return root


def audit_catalog(root: Path) -> dict[str, Any]:
    """The audit's rows for the catalog of the assignment at ``root``: each mistake planted and graded."""
    from gatelab.authoring import audit as auditing
    from gatelab.report.render import Renderer

    assignment = config.load(root)
    renderer = Renderer(assignment.grader / "templates")
    mistakes = catalog.load(assignment.grader / "mistakes", assignment.contract).mistakes
    return {row.name: row for row in (auditing.check_mistake(assignment, m, renderer) for m in mistakes)}


def test_audit_passes_on_a_catchable_mistake(make_assignment):
    """The audit's row holds when the planted mistake is caught and named."""
    rows = audit_catalog(_assignment_with_catalog(make_assignment, GOOD_YAML, GOOD_PY))
    assert list(rows) == ["mistake demo-forget-tanh"] and rows["mistake demo-forget-tanh"].ok, rows


def test_audit_finds_a_mistake_no_test_catches(make_assignment):
    """A 'mistake' that is in fact the right formula is a hole, and the row says why."""
    right = "import numpy as np\n\ndef tanh_gate(ref, x_t, h_prev, params):\n" \
            "    return ref.lstm.forget_gate(x_t, h_prev, params)\n"
    row = audit_catalog(_assignment_with_catalog(make_assignment, GOOD_YAML, right))["mistake demo-forget-tanh"]
    assert not row.ok and "no test of lstm.forget_gate catches it" in row.detail


def test_audit_exits_1_on_a_hole_and_shows_it(monkeypatch):
    """`grade audit` prints every row, marks a failing one HOLE and exits 1; all rows holding exit 0."""
    from gatelab.authoring import audit as auditing

    for rows, code in (([auditing.Check("mistake m", False, "never named")], 1), ([auditing.Check("x", True, "")], 0)):
        monkeypatch.setattr(auditing, "run", lambda *args, rows=rows, **kwargs: rows)
        result = CliRunner().invoke(main, ["audit", "--assignment", str(COURSE), "--jobs", "1"])
        assert result.exit_code == code, result.output
        assert ("HOLE" in result.output) == (code == 1)


def test_named_mistake_reaches_the_student(assignment, tmp_path):
    """A student's forget gate with tanh gets the catalog's words and lesson."""
    from conftest import values_tests, write_submission
    from gatelab import grading

    folder = write_submission(tmp_path, {"lstm": ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                                  'return np.tanh(params["Wf"] @ concat + params["bf"])')})
    results = grading.grade(assignment, folder, grading.Request(target="lstm.forget_gate", quiz="none"))
    failed = [t for t in values_tests(results) if not t.passed]
    assert failed and all("known mistake lstm-forget-gate-tanh" in t.feedback for t in failed)
    assert all(t.mistakes == ["lstm-forget-gate-tanh"] for t in failed)
    assert all("Lesson:" in t.feedback for t in failed)


def test_broken_catalog_file_is_a_note_for_the_instructor(make_assignment):
    """Grading goes on without a broken catalog file and tells the instructor (not the student) where it is."""
    from gatelab import grading

    root = make_assignment()
    (root / "grader" / "mistakes" / "zz.yaml").write_text("- id: x\n")
    results = grading.grade(config.load(root), COURSE / "solutions", grading.Request(target="lstm", quiz="none"))
    assert results.tests and all(t.passed for t in results.tests)
    assert any("zz.yaml:1" in n and "lacks" in n for n in results.instructor_notes)
    assert not any("zz.yaml" in n for n in results.notices)


UNNAMED = yaml.safe_load((Path(__file__).resolve().parent / "unnamed.yaml").read_text())


@pytest.mark.parametrize("name", sorted(UNNAMED))
def test_a_mistake_is_named_only_where_it_is_true(assignment, tmp_path, name):
    """A bug the catalog does not hold, or one that is right where a catalogued mistake coincides with the
    reference, loses its points and is never told it made a known mistake."""
    from conftest import write_submission
    from gatelab import grading

    entry = UNNAMED[name]
    folder = write_submission(tmp_path, {entry["module"]: (entry["replace"], entry["with"])})
    results = grading.grade(assignment, folder, grading.Request(quiz="none"))
    assert sorted({t.function for t in results.tests if not t.passed}) == sorted(entry["affected"])
    named = [(t.name, t.mistakes, t.feedback) for t in results.tests if t.mistakes or "known mistake" in t.feedback]
    assert named == []


def test_a_formula_that_fails_is_told_to_the_instructor(make_assignment, tmp_path):
    """A catalog formula that raises while grading costs the student nothing, and the instructor hears of it."""
    from conftest import write_submission
    from gatelab import grading

    root = _assignment_with_catalog(make_assignment, GOOD_YAML, "def tanh_gate(ref, x_t, h_prev, params):\n"
                                                                 "    raise ValueError('formula bug')\n")
    tanh_gate = ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                 'return np.tanh(params["Wf"] @ concat + params["bf"])')
    folder = write_submission(tmp_path / "submission", {"lstm": tanh_gate})
    results = grading.grade(config.load(root), folder, grading.Request(target="lstm.forget_gate", quiz="none"))
    assert any("demo.yaml:1" in n and "formula bug" in n for n in results.instructor_notes)
    assert results.defects and not any("formula bug" in t.feedback for t in results.tests)


# --- mistake families --------------------------------------------------------------------------------

FAMILIES_YAML = """\
kinds:
  gate:
    members:
      lstm.forget_gate: {id: forget-gate, W: Wf, b: bf}
      lstm.input_gate: {id: input-gate, W: Wi, b: bi}
families:
- id: "{{ module }}-{{ member.id }}-no-bias"
  kind: gate
  inputs: [{zero: "params.{{ member.b }}"}]
  feedback: "Your gate leaves out {{ member.b }}."
  lesson: "LSTM: gates"
"""


def _families(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "families.yaml").write_text(text)
    return folder


def _shipped_catalog() -> catalog.Catalog:
    return catalog.load(COURSE / "grader" / "mistakes", SHIPPED)


def test_families_expand_into_entries_for_every_member():
    """Each family gives one entry per member of its kind, rendered for that member, placed at the family's line."""
    loaded = catalog.load(_families(Path(tempfile.mkdtemp()), FAMILIES_YAML), SHIPPED)
    assert [(m.id, m.function, m.feedback) for m in loaded.mistakes] == [
        ("lstm-forget-gate-no-bias", "lstm.forget_gate", "Your gate leaves out bf."),
        ("lstm-input-gate-no-bias", "lstm.input_gate", "Your gate leaves out bi.")]
    assert all(m.where.endswith("families.yaml:7 (" + m.function + ")") for m in loaded.mistakes)


def test_shipped_families_cover_every_gate_and_sequence():
    """Every gate of the course has the gate families and every unrolled sequence the time families."""
    ids = {m.id for m in _shipped_catalog().mistakes}
    gates = {"rnn-cell", "lstm-forget-gate", "lstm-input-gate", "lstm-candidate-cell", "lstm-output-gate",
             "gru-update-gate", "gru-reset-gate", "gru-candidate"}
    for gate in gates:
        assert {f"{gate}-missing-bias", f"{gate}-concat-x-on-top"} <= ids, gate
        assert {f"{gate}-tanh", f"{gate}-sigmoid"} & ids, gate
    assert {"lstm-input-gate-forget-weights", "gru-candidate-reset-weights",
            "lstm-forget-gate-output-weight-matrix"} <= ids
    for forward in ("rnn-forward", "lstm-forward", "gru-forward"):
        for suffix in ("one-step-late", "one-step-early", "last-step-missing", "first-step-skipped", "last-step-only",
                       "every-step-is-the-last"):
            assert f"{forward}-{suffix}" in ids
    assert {"gradients-norms-one-step-early", "gradients-norms-first-step-missing"} <= ids


def test_a_hand_written_entry_wins_over_a_family_entry_with_its_id():
    """The shipped forget gate's tanh is hand-written: it keeps its own words and place, once."""
    mistakes = [m for m in _shipped_catalog().mistakes if m.id == "lstm-forget-gate-tanh"]
    assert len(mistakes) == 1 and mistakes[0].where.split(":")[0].endswith("lstm.yaml") and not mistakes[0].options


BROKEN_FAMILIES = [
    (FAMILIES_YAML.replace("lstm.forget_gate:", "lstm.forget_gat:"), "Did you mean 'lstm.forget_gate'", 4),
    (FAMILIES_YAML.replace("kind: gate", "kind: gates"), "no kind 'gates'", 8),
    (FAMILIES_YAML.replace("member.b }}\"}", "member.B }}\"}"), "cannot render", 9),
    (FAMILIES_YAML.replace('"params.{{', '"param.{{'), "no argument 'param'. Did you mean 'params'", 9),
    (FAMILIES_YAML.replace('"params.{{ member.b }}"', '"params.Wx"'), "has no key 'Wx'", 9),
    (FAMILIES_YAML.replace("{zero:", "{zro:"), "an op is one of", 9),
    (FAMILIES_YAML.replace("inputs: [{zero: \"params.{{ member.b }}\"}]", "outputs: [{shift: 1}]"),
     "result has no time axis", 9),
    (FAMILIES_YAML.replace("-{{ member.id }}-no-bias", "-no-bias"), "duplicate mistake id 'lstm-no-bias'", 7),
    (FAMILIES_YAML.replace('  lesson: "LSTM: gates"\n', ""), "lacks lesson", 7),
    (FAMILIES_YAML + "  severity: high\n", "unknown key 'severity'", 12),
    (FAMILIES_YAML.replace("kind: gate", "kind: gate\n  when: member.nope.x"), "cannot evaluate when", 9),
    (FAMILIES_YAML.replace('inputs: [{zero: "params.{{ member.b }}"}]',
                           'on: lstm.lstm_cell_forward\n'
                           '  calls: [{part: rnn.rnn_cell_forward, calls: lstm.input_gate}]'),
     "'rnn.rnn_cell_forward' is not a part of lstm.lstm_cell_forward", 10),
    (FAMILIES_YAML.replace('inputs: [{zero: "params.{{ member.b }}"}]',
                           'on: lstm.lstm_cell_forward\n  calls: [{part: lstm.cell_state, calls: lstm.input_gate}]'),
     "'lstm.input_gate' must be a function of the contract that takes what lstm.cell_state takes", 10),
    (FAMILIES_YAML.replace('inputs: [{zero: "params.{{ member.b }}"}]',
                           'on: lstm.lstm_forward\n  outputs: [{shift: 1, only: q}]'),
     "only must name one of lstm.lstm_forward's outputs", 10),
    (FAMILIES_YAML.replace('inputs: [{zero: "params.{{ member.b }}"}]', 'on: lstm.lstm_celll_forward\n  inputs: []'),
     "Did you mean 'lstm.lstm_cell_forward'", 9),
]


@pytest.mark.parametrize("text, message, line", BROKEN_FAMILIES)
def test_family_errors_cite_file_and_line(tmp_path, text, message, line):
    """A broken family names the problem and the line it is on."""
    with pytest.raises(ConfigError, match=message) as caught:
        catalog.load(_families(tmp_path, text), SHIPPED)
    assert f"families.yaml:{line}" in str(caught.value)


def test_a_swap_family_gives_the_value_of_the_code_it_names():
    """The shipped swap families reproduce, exactly, the code they name: the LSTM cell with forget_gate called
    for input_gate, lstm_forward storing c before the step; and the reference module is left as it was."""
    import importlib.util
    import sys

    import numpy as np

    from gatelab.grading import cases, reference

    ref = reference.Reference(COURSE / "solutions", SHIPPED.modules)
    namespace = catalog.reference_namespace(ref.modules)
    by_id = {m.id: m for m in _shipped_catalog().mistakes}
    small = config.load(COURSE).cases["small"]

    def student(module: str, old: str, new: str) -> object:
        text = (COURSE / "solutions" / f"{module}.py").read_text()
        assert text.count(old) == 1
        folder = Path(tempfile.mkdtemp())
        for source in (COURSE / "solutions").glob("*.py"):
            (folder / source.name).write_text(text.replace(old, new) if source.stem == module else source.read_text())
        sys.path.insert(0, str(folder))
        try:
            for name in SHIPPED.modules:
                sys.modules.pop(name, None)
            return importlib.import_module(module)
        finally:
            sys.path.remove(str(folder))
            for name in SHIPPED.modules:
                sys.modules.pop(name, None)

    for mistake_id, qualname, old, new in [
        ("lstm-cell-f-as-input", "lstm.lstm_cell_forward", "    i = input_gate(x_t, h_prev, params)\n",
         "    i = forget_gate(x_t, h_prev, params)\n"),
        ("lstm-forward-c-stored-before-the-step", "lstm.lstm_forward",
         "        h_t, c_t = lstm_cell_forward(x[:, :, t], h_t, c_t, params)\n        h[:, :, t] = h_t\n"
         "        c[:, :, t] = c_t\n",
         "        c[:, :, t] = c_t\n        h_t, c_t = lstm_cell_forward(x[:, :, t], h_t, c_t, params)\n"
         "        h[:, :, t] = h_t\n"),
    ]:
        fn = SHIPPED.lookup(qualname)
        args = cases.make_args(SHIPPED, fn, small, 0)
        value, _ = by_id[mistake_id].evaluate(namespace, args)
        got = getattr(student(fn.module, old, new), fn.name)(*args)
        expected = ref.function(qualname)(*args)
        for mine, theirs in zip(*(v if isinstance(v, tuple) else (v,) for v in (value, got))):
            determined = ~np.isnan(mine)
            assert np.allclose(mine[determined], theirs[determined], rtol=1e-12, atol=1e-14), mistake_id
        assert not all(np.allclose(a, b) for a, b in zip(*(v if isinstance(v, tuple) else (v,)
                                                           for v in (got, expected)))), mistake_id
    assert namespace.lstm.input_gate is ref.function("lstm.input_gate")  # the swap was undone


def test_a_broken_families_file_is_left_out_with_its_reason(tmp_path):
    """With an errors list, the hand-written entries load and the families file's problem is reported."""
    folder = _families(write_catalog(tmp_path, GOOD_YAML), FAMILIES_YAML.replace("kind: gate", "kind: gates"))
    errors: list[str] = []
    loaded = catalog.load(folder, SHIPPED, errors)
    assert [m.id for m in loaded.mistakes] == ["demo-forget-tanh"] and "no kind 'gates'" in errors[0]


def test_a_release_reads_the_families_without_code():
    """formulas=False (a student release) expands the same families, with the same ids, and no formula."""
    live, recorded = _shipped_catalog(), catalog.load(COURSE / "grader" / "mistakes", SHIPPED, formulas=False)
    assert [m.id for m in live.mistakes] == [m.id for m in recorded.mistakes]
    assert all(m.formula is None for m in recorded.mistakes)


def _candidate_ids(qualname: str, case: str, args_change=None) -> tuple[list[str], Any, list[Any]]:
    from gatelab.grading import matching
    from gatelab.grading.cases import make_args
    from gatelab.grading.reference import Reference

    assignment = config.load(COURSE)
    fn = SHIPPED.lookup(qualname)
    reference = Reference(COURSE / "solutions", SHIPPED.modules)
    args = make_args(SHIPPED, fn, assignment.cases[case], assignment.seed)
    expected = reference.function(qualname)(*args)
    found, failures = matching.candidates(_shipped_catalog(), fn, catalog.reference_namespace(reference.modules), args,
                                          expected)
    assert failures == []
    return [c.mistake.id for c in found], expected, found


def test_a_family_mistake_is_the_reference_on_changed_inputs():
    """Bias missing is the reference with the bias zeroed; [x; h] is the reference with W's blocks swapped."""
    import numpy as np

    from gatelab.grading.cases import make_args
    from gatelab.grading.reference import Reference

    assignment = config.load(COURSE)
    fn = SHIPPED.lookup("lstm.output_gate")
    reference = Reference(COURSE / "solutions", SHIPPED.modules)
    x_t, h_prev, params = make_args(SHIPPED, fn, assignment.cases["wide_input"], assignment.seed)
    by_id = {m.id: m for m in _shipped_catalog().mistakes}
    ref = catalog.reference_namespace(reference.modules)
    sigmoid = reference.function("activations.sigmoid")
    no_bias, after = by_id["lstm-output-gate-missing-bias"].evaluate(ref, [x_t, h_prev, params])
    assert np.allclose(no_bias, sigmoid(params["Wo"] @ np.vstack([h_prev, x_t])))
    assert after[2]["bo"] is not None and np.array_equal(after[2]["bo"], params["bo"])  # the caller's dict is kept
    x_on_top, _ = by_id["lstm-output-gate-concat-x-on-top"].evaluate(ref, [x_t, h_prev, params])
    assert np.allclose(x_on_top, sigmoid(params["Wo"] @ np.vstack([x_t, h_prev]) + params["bo"]))
    other, _ = by_id["lstm-output-gate-input-weights"].evaluate(ref, [x_t, h_prev, params])
    assert np.allclose(other, reference.function("lstm.input_gate")(x_t, h_prev, params))


def test_a_time_family_is_no_candidate_where_every_step_is_open():
    """On a sequence of one step, a shift or a missing step determines nothing, so it is never named there."""
    ids, _, _ = _candidate_ids("rnn.rnn_forward", "single_step")
    assert not any(i.startswith("rnn-forward-one-step") or i.endswith("step-missing") for i in ids)
    ids, _, _ = _candidate_ids("rnn.rnn_forward", "small")
    assert {"rnn-forward-one-step-late", "rnn-forward-one-step-early", "rnn-forward-last-step-missing"} <= set(ids)


def test_an_open_step_matches_any_value_and_only_there():
    """A result one step late matches whatever stands at step 0, and nothing that differs at another step."""
    import numpy as np

    _, expected, found = _candidate_ids("rnn.rnn_forward", "small")
    late = next(c for c in found if c.mistake.id == "rnn-forward-one-step-late")
    student = np.concatenate([np.full(expected[:, :, :1].shape, 0.123), expected[:, :, :-1]], axis=2)
    assert late.explains(SimpleNamespace(value=student, args_after=late.after, aliases=False))
    student[0, 0, 3] += 1e-3
    assert not late.explains(SimpleNamespace(value=student, args_after=late.after, aliases=False))


def test_audit_plants_and_names_family_mistakes(make_assignment):
    """`grade audit` plants each family mistake (the shared formula with its options) and finds it named."""
    root = make_assignment()
    mistakes = root / "grader" / "mistakes"
    for path in mistakes.glob("*"):
        path.unlink()
    _families(mistakes, FAMILIES_YAML)
    rows = audit_catalog(root)
    assert "mistake lstm-forget-gate-no-bias" in rows and "mistake lstm-input-gate-no-bias" in rows
    assert all(row.ok for row in rows.values()), [row for row in rows.values() if not row.ok]
