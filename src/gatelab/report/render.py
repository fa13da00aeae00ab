"""The one jinja2 environment: package templates, optionally overridden by the instructor.

Every text gatelab shows (feedback, the terminal report, stubs) is a
template under ``gatelab/templates``; a file of the same name in the
assignment's ``grader/templates`` replaces it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jinja2


def compiled_cache() -> jinja2.BytecodeCache | None:
    """Where compiled templates are kept between runs, keyed by the hash of their source (a check compiles a
    template only the first time it sees it): jinja2's own cache folder for this user in the temporary
    directory, which jinja2 creates private and refuses if another user owns it. None where that fails."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


class StringTemplates:
    """Templates given as strings (question prompts, family feedback), each compiled once per text and kept in
    the compiled cache between runs."""

    def __init__(self, **options: Any) -> None:
        self._sources: dict[str, str] = {}
        self.env = jinja2.Environment(loader=jinja2.FunctionLoader(self._sources.get), cache_size=-1,
                                      bytecode_cache=compiled_cache(), **options)

    def get(self, text: str) -> jinja2.Template:
        """The compiled template of ``text`` (a jinja2.TemplateSyntaxError if it is not one)."""
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._sources[key] = text
        return self.env.get_template(key)


class Renderer:
    """Renders named templates and the feedback macros in ``feedback.j2``."""

    def __init__(self, override: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override is not None and override.is_dir():
            loaders.append(jinja2.FileSystemLoader(str(override)))
        loaders.append(jinja2.PackageLoader("gatelab", "templates"))
        self.env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                      autoescape=False, bytecode_cache=compiled_cache())
        self.env.filters["pyrepr"] = repr
        self._feedback: Any = None

    def render(self, template: str, /, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def feedback(self, kind: str, **context: Any) -> str:
        """One feedback message: the macro ``kind`` of ``feedback.j2``."""
        if self._feedback is None:
            self._feedback = self.env.get_template("feedback.j2").make_module()
        return str(getattr(self._feedback, kind)(**context)).strip()
