"""The JSON Schemas of config.yaml, contract.yaml and the question bank (`grade schema`): valid draft-07, met by
every shipped file, named on each file's first line for editors, in step with the loaders, and checked by
`grade validate` with file:line (or skipped, with one line on how to get jsonschema)."""
from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator

from conftest import COURSE
from gatelab import archive
from gatelab.cli import main
from gatelab.course import config, contract, schemas
from gatelab.course.limits import POLICIES, Limits
from gatelab.errors import ConfigError
from gatelab.quiz import bank as banks
from gatelab.quiz import loading
from gatelab.yamlsource import YamlSource

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = [ROOT, COURSE, ROOT / "examples" / "attention"]
MODELINE = "# yaml-language-server: $schema="


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _properties(schema: dict[str, Any], *path: str) -> set[str]:
    """The keys the schema allows at ``path`` (a walk through properties, definitions, additionalProperties)."""
    node = schema
    for step in path:
        node = node[step]
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return set(node["properties"])


def test_each_schema_is_valid_draft_07():
    for name in schemas.NAMES:
        schema = schemas.schema(name)
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("root", ASSIGNMENTS, ids=["course", "fixture", "attention"])
def test_every_shipped_yaml_file_meets_its_schema(root):
    found = schemas.files(root / "grader")
    assert {name for name, _ in found} == set(schemas.NAMES)
    for name, path in found:
        Draft7Validator(schemas.schema(name)).validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert schemas.check(root / "grader") == []


@pytest.mark.parametrize("root", ASSIGNMENTS, ids=["course", "fixture", "attention"])
def test_every_shipped_yaml_file_names_its_schema_on_its_first_line(root):
    """The YAML language server's modeline, a path from the file to grader/schemas/, whose copies are the
    package's own (`grade schema --write grader/schemas` after an upgrade)."""
    grader = root / "grader"
    for name in schemas.NAMES:
        assert (grader / schemas.FOLDER / schemas.file_name(name)).read_text(encoding="utf-8") == schemas.text(name)
    for name, path in schemas.files(grader):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(MODELINE), path
        target = (path.parent / first.removeprefix(MODELINE)).resolve()
        assert target == (grader / schemas.FOLDER / schemas.file_name(name)).resolve(), path


def _spied_keys(monkeypatch, load: Callable[[], object]) -> dict[str, set[str]]:
    """Every allowed-key list the loader checks against while loading, by what it names."""
    seen: dict[str, set[str]] = {}
    original = YamlSource.check_keys

    def spy(self, entries, allowed, what):
        seen[what] = set(allowed)
        return original(self, entries, allowed, what)

    monkeypatch.setattr(YamlSource, "check_keys", spy)
    load()
    monkeypatch.undo()
    return seen


CHOICE_AND_GRADIENT = """\
dimensions: {n: {about: entries}}
variables: {pick: 0}
inputs:
  x: {shape: [n], normal: 1}
  which: {by: pick, texts: [a, b]}
modules:
  m:
    f: {args: {x: x}, returns: {name: y, like: x}}
    f_backward: {args: {x: x, dy: x}, returns: {name: dx, like: x}, gradient_of: {function: m.f, upstream: [dy]}}
"""


def test_the_schemas_allow_the_keys_the_loaders_allow(monkeypatch, tmp_path):
    """The allowed keys, read from the loaders as they load the course (check_keys' lists) and from their
    constants, are the schemas' own: neither can drift from the other silently."""
    keys = _spied_keys(monkeypatch, lambda: config.load(COURSE))
    cfg = schemas.schema("config")
    assert keys["the file"] == _properties(cfg)
    assert keys["limits"] == _properties(cfg, "properties", "limits") == set(Limits.__dataclass_fields__)
    assert keys["quiz"] == _properties(cfg, "properties", "quiz")
    assert keys["aspects"] == _properties(cfg, "properties", "aspects") == set(config.ASPECTS)
    assert keys["prairielearn"] == _properties(cfg, "properties", "prairielearn")
    assert keys["tests.lstm.forget_gate.small"] == _properties(cfg, "definitions", "settings")
    assert set(cfg["properties"]["isolation"]["enum"]) == set(POLICIES)
    assert cfg["definitions"]["settings"]["properties"]["visibility"]["enum"] == list(config.VISIBILITIES)
    assert cfg["properties"]["quiz"]["properties"]["explanations"]["enum"] == list(config.VISIBILITIES)
    assert cfg["properties"]["quiz"]["properties"]["feedback"]["enum"] == list(config.QUIZ_FEEDBACK)
    assert cfg["properties"]["quiz"]["properties"]["local_feedback"]["enum"] == list(config.LOCAL_FEEDBACK)
    assert cfg["properties"]["prairielearn"]["properties"]["image"]["pattern"] == f"^(?:{config.IMAGE.pattern})$"
    assert _properties(cfg, "properties", "withheld", "additionalProperties") == {"tests", "points"}

    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "contract.yaml").write_text(CHOICE_AND_GRADIENT)  # what the fixture does not use
    keys = {**_spied_keys(monkeypatch, lambda: contract.load(COURSE / "grader")),
            **_spied_keys(monkeypatch, lambda: contract.load(tmp_path / "grader"))}
    con = schemas.schema("contract")
    assert keys["the contract"] == _properties(con)
    assert keys["dimensions.n_h"] == _properties(con, "properties", "dimensions", "additionalProperties")
    assert con["properties"]["dimensions"]["additionalProperties"]["properties"]["role"]["enum"] == list(contract.ROLES)
    assert keys["inputs.gate"] == _properties(con, "definitions", "kind", "else", "else") - {"about", "let"}
    assert keys["inputs.gate"] == _properties(con, "definitions", "draw")
    assert {*contract.DRAWS} <= keys["inputs.gate"]
    assert keys["inputs.preactivation.saturate"] == _properties(con, "definitions", "saturation")
    assert set(contract._FunctionReader.FIELDS) == _properties(con, "definitions", "function")
    assert set(contract._FunctionReader.OUTPUT_FIELDS) == _properties(con, "definitions", "output")
    assert set(contract.RANGE_HINTS) == _properties(con, "definitions", "output", "properties", "hints")
    assert keys["an error hint"] == _properties(con, "properties", "error_hints", "items")
    assert keys["shape_hints"] == _properties(con, "properties", "shape_hints")
    assert keys["inputs.which"] == _properties(con, "definitions", "kind", "then") - {"about", "let"}
    assert any(k.endswith(".gradient_of") for k in keys)
    assert {"function", "upstream"} == _properties(con, "definitions", "function", "properties", "gradient_of")

    keys = _spied_keys(monkeypatch, lambda: loading.load(COURSE / "grader" / "quiz"))
    bank = schemas.schema("question-bank")
    question = bank["definitions"]["question"]
    assert set(question["properties"]) == {*banks.COMMON, *(k for ks in banks.SPECIFIC.values() for k in ks)}
    assert question["properties"]["type"]["enum"] == list(banks.TYPES)
    for branch in question["allOf"]:
        kind = branch["if"]["properties"]["type"]["const"]
        assert set(branch["then"]["propertyNames"]["enum"]) == {*banks.COMMON, *banks.SPECIFIC[kind]}, kind
        assert any(keys[k] == set(banks.COMMON + banks.SPECIFIC[kind]) for k in keys if k.endswith(f"({kind})"))
    choice = next(k for k in keys if k.endswith(": a choice"))
    assert keys[choice] == _properties(bank, "definitions", "choice")
    tolerance = next(k for k in keys if k.endswith(": tolerance"))
    assert keys[tolerance] == set(question["properties"]["tolerance"]["properties"])
    assert _properties(bank, "definitions", "accepted_regex") == {"regex", "example"}
    assert _properties(bank, "definitions", "wrong_numeric") == {"answer", "feedback"}
    assert _properties(bank, "definitions", "wrong_text") == {"match", "feedback"}
    assert question["properties"]["id"]["pattern"] == loading.ID.pattern


def _copy(tmp_path: Path) -> Path:
    """The course's grader in tmp_path, its config pointing at the course's solutions and exercises."""
    root = tmp_path / "assignment"
    shutil.copytree(COURSE / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "grader" / "config.yaml"
    path.write_text(path.read_text().replace("solutions: ../solutions", f"solutions: {COURSE / 'solutions'}")
                    .replace("exercises: ../exercises", f"exercises: {COURSE / 'exercises'}"))
    return root


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _first(data: list[dict], kind: str) -> dict:
    return next(q for q in data if q["type"] == kind)


MISTAKES: dict[str, tuple[str, Callable[[Any], None]]] = {
    "unknown top-level key": ("config", lambda d: d.update(titel="x")),
    "misspelt limit": ("config", lambda d: d["limits"].update(timout=3)),
    "limit not positive": ("config", lambda d: d["limits"].update(timeout=0)),
    "memory as a string": ("config", lambda d: d["limits"].update(memory_mb="1 GB")),
    "bad visibility": ("config", lambda d: d["tests"]["lstm.forget_gate"]["small"].update(visibility="public")),
    "points as text": ("config", lambda d: d["tests"]["lstm.forget_gate"].update(small={"points": "two"})),
    "unknown test setting": ("config", lambda d: d["tests"]["lstm.forget_gate"].update(small={"weight": 2})),
    "aspect set to true": ("config", lambda d: d.setdefault("aspects", {}).update(shape_and_dtype=True)),
    "quiz share of 1.5": ("config", lambda d: d.update(quiz={"share": 1.5})),
    "unknown quiz key": ("config", lambda d: d.update(quiz={"feedbak": "full"})),
    "bad isolation": ("config", lambda d: d.update(isolation="loose")),
    "a case named as an aspect": ("config", lambda d: d["cases"].update(shape_and_dtype=d["cases"]["small"])),
    "bad docker image": ("config", lambda d: d.update(prairielearn={"image": "Not An Image!"})),
    "unknown function field": ("contract", lambda d: d["modules"]["lstm"]["forget_gate"].update(retruns=[])),
    "bad role": ("contract", lambda d: d["dimensions"]["m"].update(role="batch")),
    "two distributions": ("contract", lambda d: d["inputs"]["gate"].update(uniform=[0, 1])),
    "a draw with no shape": ("contract", lambda d: d["inputs"]["gate"].pop("shape")),
    "a result with no name": ("contract", lambda d: d["modules"]["lstm"]["forget_gate"].update(
        returns={"shape": ["n_h", "m"]})),
    "unknown hint": ("contract", lambda d: d["modules"]["lstm"]["forget_gate"].update(
        returns={"name": "f", "shape": ["n_h", "m"], "hints": {"outsde": "x"}})),
    "a function without args": ("contract", lambda d: d["modules"]["lstm"]["forget_gate"].pop("args")),
    "a key of another type": ("quiz", lambda d: _first(d, "single").update(tolerance={"abs": 1})),
    "true_false answered yes": ("quiz", lambda d: _first(d, "true_false").update(answer="yes")),
    "an id not kebab-case": ("quiz", lambda d: d[0].update(id="Bad_Id")),
    "a wrong choice without feedback": ("quiz", lambda d: _first(d, "single")["choices"].append({"text": "new"})),
    "no type": ("quiz", lambda d: d[0].pop("type")),
    "unknown type": ("quiz", lambda d: d[0].update(type="essay")),
    "two tolerances": ("quiz", lambda d: _first(d, "numeric").update(tolerance={"abs": 1, "rel": 0.1})),
    "a reserved id": ("quiz", lambda d: d[0].update(id="student")),
    "negative points": ("quiz", lambda d: d[0].update(points=-1)),
    "tags left empty (null, not a list)": ("quiz", lambda d: d[0].update(tags=None)),
    "parts left empty (null, not a list)": ("contract", lambda d: d["modules"]["lstm"]["forget_gate"].update(
        parts=None)),
}
FILES = {"config": ("config", "config.yaml"), "contract": ("contract", "contract.yaml"),
         "quiz": ("question-bank", "quiz/rnn.yaml")}


def _load(root: Path, which: str) -> None:
    if which == "quiz":
        loading.load(root / "grader" / "quiz")
    else:
        config.load(root)


def _edited(tmp_path: Path, which: str, change: Callable[[Any], None]) -> tuple[Path, Path, str]:
    """A copy of the course with ``which`` file changed: its root, the file and the name of its schema."""
    root = _copy(tmp_path)
    name, relative = FILES[which]
    path = root / "grader" / relative
    _edit(path, change)
    return root, path, name


@pytest.mark.parametrize("mistake", MISTAKES)
def test_the_schema_refuses_what_the_loader_refuses(tmp_path, mistake):
    which, change = MISTAKES[mistake]
    root, path, name = _edited(tmp_path, which, change)
    with pytest.raises(ConfigError):
        _load(root, which)
    assert schemas.check_file(path, name), mistake


ACCEPTED: dict[str, tuple[str, Callable[[Any], None]]] = {
    "an aspect turned off": ("config", lambda d: d.update(aspects={"shape_and_dtype": False,
                                                                   "inputs_unchanged": None})),
    "a case with the defaults": ("config", lambda d: d["tests"]["lstm.forget_gate"].update(small=None)),
    "every quiz setting": ("config", lambda d: d.update(quiz={"feedback": "full", "explanations": "after_published",
                                                              "share": 0.5, "local_feedback": "marked"})),
    "a PrairieLearn image": ("config", lambda d: d.update(prairielearn={"image": "ghcr.io/me/gatelab:1.0"})),
    "weak isolation": ("config", lambda d: d.update(isolation="weak")),
    "no title nor seed": ("config", lambda d: [d.pop("title"), d.pop("seed")]),
    "no error hints": ("contract", lambda d: d.pop("error_hints", None)),
    "a value draw": ("contract", lambda d: d["inputs"].update(extra={"value": 2, "about": "two"})),
    "a numeric template answer": ("quiz", lambda d: _first(d, "numeric").update(answer="{{ 2 * 3 }}")),
    "choices in the file's order": ("quiz", lambda d: _first(d, "single").update(shuffle=False)),
    "integer points and no tags": ("quiz", lambda d: [d[0].update(points=2), d[0].pop("tags", None)]),
}


@pytest.mark.parametrize("variation", ACCEPTED)
def test_the_schema_accepts_what_the_loader_accepts(tmp_path, variation):
    which, change = ACCEPTED[variation]
    root, path, name = _edited(tmp_path, which, change)
    _load(root, which)
    assert schemas.check_file(path, name) == []


def test_a_release_config_meets_the_schema(assignment):
    """What `grade release` writes for students (withheld tests, a checksum) is a config.yaml too."""
    from gatelab.authoring.release import _public_config

    public = _public_config(assignment)
    Draft7Validator(schemas.schema("config")).validate({**public, "recorded": "recorded.bin"})


def test_grade_validate_reports_schema_violations_with_file_and_line(tmp_path):
    root = _copy(tmp_path)
    bank = root / "grader" / "quiz" / "rnn.yaml"
    lines = bank.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  type: true_false"))
    lines.insert(at + 1, "  tolerance: {abs: 1}")
    bank.write_text("\n".join(lines) + "\n")
    result = run("validate", "--assignment", str(root), "--seeds", "2")
    assert f"{bank}:{at + 2}: question " in result.output
    assert "unknown key 'tolerance'. (schema question-bank.schema.json)" in result.output
    assert result.exit_code == 1

    path = root / "grader" / "config.yaml"
    text = path.read_text()
    line = text[:text.index("  timeout:")].count("\n") + 1
    path.write_text(text.replace("  timeout:", "  timout:"))
    result = run("validate", "--assignment", str(root))
    assert f"{path}:{line}: limits: unknown key 'timout'. Did you mean 'timeout'?" in result.output
    assert result.exit_code == 3  # then the loader refuses the file, as before


def test_without_jsonschema_validate_says_how_to_get_it_and_does_the_rest(monkeypatch):
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema raises ImportError
    assert not schemas.available()
    result = run("validate", "--assignment", str(ROOT / "examples" / "attention"), "--seeds", "2")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "jsonschema" in line]
    assert len(notes) == 1 and 'pip install "gatelab[schema]"' in notes[0]
    assert "questions (" in result.output and "0 problem(s)" in result.output


@pytest.mark.parametrize("name", schemas.NAMES)
def test_grade_schema_prints_the_schema_as_json(name):
    result = run("schema", name)
    assert result.exit_code == 0
    printed = json.loads(result.output)
    Draft7Validator.check_schema(printed)
    assert printed == schemas.schema(name)


def test_grade_schema_write_writes_the_three_as_shipped(tmp_path):
    result = run("schema", "--write", str(tmp_path / "schemas"))
    assert result.exit_code == 0, result.output
    written = sorted((tmp_path / "schemas").iterdir())
    assert [p.name for p in written] == sorted(schemas.file_name(n) for n in schemas.NAMES)
    package = Path(schemas.__file__).resolve().parent.parent / "schemas"
    for path in written:
        assert path.read_bytes() == (package / path.name).read_bytes()
    assert run("schema").exit_code == 2  # neither a name nor --write
    assert list(main.commands["schema"].params[0].type.choices) == list(schemas.NAMES)


def test_the_schemas_are_package_data_and_jsonschema_an_extra():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "schemas/*.json" in data["tool"]["setuptools"]["package-data"]["gatelab"]
    assert data["project"]["optional-dependencies"]["schema"] == ["jsonschema>=4.18"]
    assert not any(d.startswith("jsonschema") for d in data["project"]["dependencies"])


def test_the_wheel_gatelab_builds_for_a_release_holds_the_schemas(tmp_path):
    names = zipfile.ZipFile(archive.build_wheel(tmp_path)).namelist()
    assert {f"gatelab/schemas/{schemas.file_name(n)}" for n in schemas.NAMES} <= set(names)
