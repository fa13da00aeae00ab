"""YAML read with the line of every node, so each validation message can cite file:line.

Configuration and catalog files are read through :class:`YamlSource`; its
helpers raise :class:`ConfigError` with ``where`` set, and never let a
PyYAML traceback reach an instructor.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gatelab.errors import ConfigError, did_you_mean
from gatelab.textfiles import NotText, read_text

FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster


class YamlSource:
    """One YAML file as a node tree, with typed accessors that report where a value is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.root = yaml.compose(read_text(path), Loader=FAST_SAFE_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", where) from None
        except NotText as exc:
            raise ConfigError(str(exc), f"{path}:{exc.line}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror or exc}", str(path)) from None

    def where(self, node: yaml.Node | None) -> str:
        return f"{self.path}:{node.start_mark.line + 1}" if node is not None else str(self.path)

    def mapping(self, node: yaml.Node | None, what: str) -> dict[str, yaml.Node]:
        """The entries of a mapping node (an empty dict for a missing or null node)."""
        if node is None or (isinstance(node, yaml.ScalarNode) and self.value(node) is None):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{what} must be a mapping", self.where(node))
        return {str(k.value): v for k, v in node.value}

    def sequence(self, node: yaml.Node | None, what: str) -> list[yaml.Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(f"{what} must be a list", self.where(node))
        return list(node.value)

    def value(self, node: yaml.Node) -> Any:
        return yaml.SafeLoader("").construct_document(node)

    def check_keys(self, entries: dict[str, yaml.Node], allowed: tuple[str, ...], what: str) -> None:
        for key, node in entries.items():
            if key not in allowed:
                raise ConfigError(f"unknown key {key!r} in {what}.{did_you_mean(key, allowed)}", self.where(node))

    def require(self, entries: dict[str, yaml.Node], required: tuple[str, ...], what: str, node: yaml.Node) -> None:
        missing = [key for key in required if key not in entries]
        if missing:
            raise ConfigError(f"{what} lacks {', '.join(missing)}", self.where(node))

    def typed(self, node: yaml.Node, kind: type, what: str) -> Any:
        """The node's value, which must be of ``kind`` (float accepts ints; bool is never a number)."""
        value = self.value(node)
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is str:
            ok = isinstance(value, str) and bool(value.strip())
        if not ok:
            article = {float: "a number", str: "a non-empty string", int: "an integer"}.get(kind, f"a {kind.__name__}")
            raise ConfigError(f"{what} must be {article}, not {value!r}", self.where(node))
        return float(value) if kind is float else value
