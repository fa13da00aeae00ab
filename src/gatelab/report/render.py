"""The one jinja2 environment: package templates, optionally overridden by the instructor.

Every text gatelab shows (feedback, the terminal report, stubs) is a
template under ``gatelab/templates``; a file of the same name in the
assignment's ``grader/templates`` replaces it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2


class Renderer:
    """Renders named templates and the feedback macros in ``feedback.j2``."""

    def __init__(self, override: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override is not None and override.is_dir():
            loaders.append(jinja2.FileSystemLoader(str(override)))
        loaders.append(jinja2.PackageLoader("gatelab", "templates"))
        self.env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                      autoescape=False)
        self.env.filters["pyrepr"] = repr
        self._feedback: Any = None

    def render(self, template: str, /, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def feedback(self, kind: str, **context: Any) -> str:
        """One feedback message: the macro ``kind`` of ``feedback.j2``."""
        if self._feedback is None:
            self._feedback = self.env.get_template("feedback.j2").make_module()
        return str(getattr(self._feedback, kind)(**context)).strip()
