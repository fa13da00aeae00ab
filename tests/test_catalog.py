"""The mistake catalog: loading, validation with file:line, matching, and the audit that checks it."""
from __future__ import annotations

import textwrap
from pathlib import Path

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


def test_audit_passes_on_a_catchable_mistake(make_assignment):
    """`grade audit` exits 0 when the planted mistake is caught and named."""
    root = _assignment_with_catalog(make_assignment, GOOD_YAML, GOOD_PY)
    result = CliRunner().invoke(main, ["audit", "--assignment", str(root)])
    assert result.exit_code == 0, result.output
    assert "mistake demo-forget-tanh" in result.output and "HOLE" not in result.output


def test_audit_finds_a_mistake_no_test_catches(make_assignment):
    """A 'mistake' that is in fact the right formula is a hole: exit 1 and the row says why."""
    right = "import numpy as np\n\ndef tanh_gate(ref, x_t, h_prev, params):\n" \
            "    return ref.lstm.forget_gate(x_t, h_prev, params)\n"
    root = _assignment_with_catalog(make_assignment, GOOD_YAML, right)
    result = CliRunner().invoke(main, ["audit", "--assignment", str(root)])
    assert result.exit_code == 1
    assert "HOLE" in result.output and "no test of lstm.forget_gate catches it" in result.output


def test_named_mistake_reaches_the_student(assignment, tmp_path):
    """A student's forget gate with tanh gets the catalog's words and lesson."""
    from conftest import values_tests, write_submission
    from gatelab import grading

    folder = write_submission(tmp_path, {"lstm": ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                                  'return np.tanh(params["Wf"] @ concat + params["bf"])')})
    results = grading.grade(assignment, folder, target="lstm.forget_gate", quiz="none")
    failed = [t for t in values_tests(results) if not t.passed]
    assert failed and all("known mistake lstm-forget-gate-tanh" in t.feedback for t in failed)
    assert all(t.mistakes == ["lstm-forget-gate-tanh"] for t in failed)
    assert all("Lesson:" in t.feedback for t in failed)


def test_broken_catalog_file_is_a_note_for_the_instructor(make_assignment):
    """Grading goes on without a broken catalog file and tells the instructor (not the student) where it is."""
    from gatelab import grading

    root = make_assignment()
    (root / "grader" / "mistakes" / "zz.yaml").write_text("- id: x\n")
    results = grading.grade(config.load(root), COURSE / "solutions", target="lstm", quiz="none")
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
    results = grading.grade(assignment, folder, quiz="none")
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
    results = grading.grade(config.load(root), folder, target="lstm.forget_gate", quiz="none")
    assert any("demo.yaml:1" in n and "formula bug" in n for n in results.instructor_notes)
    assert results.defects and not any("formula bug" in t.feedback for t in results.tests)
