"""The JSON Schemas of an assignment's YAML files: ``grader/config.yaml``, ``grader/contract.yaml`` and each
question-bank file ``grader/quiz/*.yaml`` (JSON Schema draft-07, shipped in ``gatelab/schemas``).

They are written from the loaders (``course.config``, ``course.contract``, ``quiz.bank``), key by key, for
editors (the YAML language server's ``# yaml-language-server: $schema=...`` line at the top of each file) and
for ``grade validate``, which reports each violation with file:line. The loaders stay the judges: they also
check what a schema cannot (expressions, names across files, templates). Checking needs ``jsonschema``, an
optional extra (``gatelab[schema]``); without it :func:`available` is false and nothing else changes.
"""
from __future__ import annotations

import functools
import importlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gatelab.errors import ConfigError, did_you_mean
from gatelab.yamlsource import YamlSource

NAMES = ("config", "contract", "question-bank")
FOLDER = "schemas"  # in an assignment: grader/schemas, where the YAML files' modelines point
INSTALL = 'pip install "gatelab[schema]"'
MISSING = f"the YAML files were not checked against their JSON Schemas: jsonschema is not installed ({INSTALL})"


def file_name(name: str) -> str:
    """``config`` -> ``config.schema.json``."""
    return f"{name}.schema.json"


def text(name: str) -> str:
    """The schema ``name`` (one of :data:`NAMES`) as shipped, JSON text."""
    return resources.files("gatelab").joinpath("schemas").joinpath(file_name(name)).read_text(encoding="utf-8")


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The schema ``name``, parsed once (read only: a validator never changes it)."""
    loaded: dict[str, Any] = json.loads(text(name))
    return loaded


def write(folder: Path, names: tuple[str, ...] = NAMES) -> list[Path]:
    """The schemas written into ``folder`` (``grader/schemas`` in an assignment), byte for byte as shipped."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        target = folder / file_name(name)
        target.write_text(text(name), encoding="utf-8")
        written.append(target)
    return written


def files(grader: Path) -> list[tuple[str, Path]]:
    """An assignment's YAML files that have a schema, each with the schema's name."""
    found = [("config", grader / "config.yaml"), ("contract", grader / "contract.yaml")]
    quiz = grader / "quiz"
    found += [("question-bank", path) for path in (sorted(quiz.glob("*.yaml")) if quiz.is_dir() else [])]
    return [(name, path) for name, path in found if path.is_file()]


def _jsonschema() -> Any:
    """The jsonschema module, or None when it is not installed (it is an optional extra)."""
    try:
        return importlib.import_module("jsonschema")
    except ImportError:
        return None


def available() -> bool:
    """Whether the schemas can be checked here (``jsonschema`` is installed)."""
    return _jsonschema() is not None


def _data(doc: YamlSource, node: yaml.Node | None) -> Any:
    """A node as the loaders see it: every mapping key a string (``str(key)``), values as YAML reads them."""
    if node is None:
        return None
    if isinstance(node, yaml.MappingNode):
        return {str(key.value): _data(doc, value) for key, value in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_data(doc, item) for item in node.value]
    return doc.value(node)


def _entry(node: yaml.Node | None, step: str | int) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(key node, value node) of ``step`` in a mapping or list node; (None, None) when there is none."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == step:
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return None, node.value[step]
    return None, None


def _place(doc: YamlSource, error: Any) -> tuple[int, str]:
    """The line (1-based) of the YAML node an error is about, and its path as a reader says it."""
    node: yaml.Node | None = doc.root
    steps = []
    for step in error.absolute_path:
        _, child = _entry(node, step)
        if child is None:
            break
        _, named = _entry(child, "id") if isinstance(step, int) else (None, None)  # a question, by its id
        steps.append(f"question {named.value!r}" if isinstance(named, yaml.ScalarNode)
                     else f"[{step}]" if isinstance(step, int) else f".{step}")
        node = child
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
        key, _ = _entry(node, extra[0]) if extra else (None, None)
        node = key or node
    elif "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        key, _ = _entry(node, error.instance)
        node = key or node
    path = "".join(steps).lstrip(".").replace("'.", "': ", 1) or "the file"
    return (node.start_mark.line + 1 if node is not None else 1), path


def _message(error: Any) -> str:
    """What is wrong, in the loaders' words where they have some, never a whole mapping's dump."""
    instance, schema_part = error.instance, error.schema
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema_part.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        if extra:
            return f"unknown key {extra[0]!r}.{did_you_mean(extra[0], allowed)}"
    if "propertyNames" in error.absolute_schema_path:
        if error.validator == "enum":
            return f"unknown key {instance!r}.{did_you_mean(str(instance), error.validator_value)}"
        return f"the key {instance!r} is not allowed here" if error.validator == "not" else f"the key {error.message}"
    alternatives = error.validator_value if error.validator in ("oneOf", "anyOf") else None
    if alternatives and all(list(a) == ["required"] and len(a["required"]) == 1 for a in alternatives):
        return f"needs exactly one of {', '.join(a['required'][0] for a in alternatives)}"
    message = str(error.message)
    if isinstance(instance, (dict, list)) and repr(instance) in message:
        message = message.replace(repr(instance), "this mapping" if isinstance(instance, dict) else "this list")
    return message if len(message) <= 200 else message[:197] + "..."


def _deepest(error: Any, best_match: Any) -> Any:
    """For an error over alternatives (anyOf, oneOf), the most telling error inside them."""
    while error.context:
        inner = best_match(error.context)
        if inner is None or len(list(inner.absolute_path)) < len(list(error.absolute_path)):
            break
        error = inner
    return error


def check_file(path: Path, name: str) -> list[str]:
    """Every violation of schema ``name`` in the YAML file ``path``, as ``file:line: path: message``, in line
    order; none for a file that is not YAML (the loader reports that)."""
    jsonschema = _jsonschema()
    if jsonschema is None:
        raise ImportError(MISSING)
    try:
        doc = YamlSource(path)
    except ConfigError:
        return []
    validator = jsonschema.Draft7Validator(schema(name))
    found = []
    for error in validator.iter_errors(_data(doc, doc.root)):
        error = _deepest(error, jsonschema.exceptions.best_match)
        line, where = _place(doc, error)
        found.append((line, f"{path}:{line}: {where}: {_message(error)} (schema {file_name(name)})"))
    return [problem for _, problem in sorted(found, key=lambda pair: pair[0])]


def check(grader: Path) -> list[str]:
    """Every schema violation in an assignment's config.yaml, contract.yaml and question-bank files."""
    return [problem for name, path in files(grader) for problem in check_file(path, name)]
