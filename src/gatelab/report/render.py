"""The one jinja2 environment: package templates, optionally overridden by the instructor.

Every text gatelab shows (feedback, the terminal report, stubs) is a
template under ``gatelab/templates``; a file of the same name in the
assignment's ``grader/templates`` replaces it. What goes to a terminal is
rendered by :meth:`Renderer.terminal`, where every value printed has its
control characters spelt out; Markdown fences what a student printed with the
``fenced`` filter.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, Callable

import jinja2
from jinja2.filters import do_indent
from markupsafe import Markup

from gatelab.report.console import visible
from gatelab.report.fences import fenced


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
        self.env = _environment(jinja2.ChoiceLoader(loaders), autoescape=False, bytecode_cache=compiled_cache())
        self._feedback: Any = None
        self._terminal: jinja2.Environment | None = None

    def render(self, template: str, /, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def terminal(self, template: str, /, style: Callable[..., str], **context: Any) -> str:
        """``template`` for a terminal: every value it prints passes :func:`console.visible` (a submission's
        escape sequences are spelt out), except what ``style`` made of text that passed it too.

        jinja2's autoescaping is the mechanism: a value is finalized to safe ``Markup`` once, so the output of
        a macro or of ``style`` is not escaped again. HTML's escaping applies only where jinja2 would escape
        a constant (``{{ "<" }}``: write such text outside the braces) or text joined to a style with ``~``
        (no template does). ``indent`` spells control characters out before it splits lines, where a
        carriage return or a form feed would otherwise become a line break unseen."""
        if self._terminal is None:  # compiled apart, and not kept: its code differs from the same template's
            self._terminal = _environment(self.env.loader, autoescape=True, finalize=_shown)
            self._terminal.filters["indent"] = _indent
        return self._terminal.get_template(template).render(
            style=lambda text, **options: Markup(style(visible(str(text)), **options)), **context)

    def feedback(self, kind: str, **context: Any) -> str:
        """One feedback message: the macro ``kind`` of ``feedback.j2``."""
        if self._feedback is None:
            self._feedback = self.env.get_template("feedback.j2").make_module()
        return str(getattr(self._feedback, kind)(**context)).strip()


def _environment(loader: Any, **options: Any) -> jinja2.Environment:
    """An environment over ``loader`` with gatelab's whitespace rules and filters."""
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, **options)
    env.filters["pyrepr"] = repr
    env.filters["fenced"] = fenced
    return env


def _indent(text: Any, *args: Any, **kwargs: Any) -> str:
    """jinja2's ``indent`` of ``text`` with its control characters spelt out first (a macro's or a style's
    output, already safe, as it is)."""
    return do_indent(text if isinstance(text, Markup) else visible(str(text)), *args, **kwargs)


def _shown(value: Any) -> Markup:
    """A value as a terminal template prints it: already safe (a macro's output, a style), or spelt out."""
    return value if isinstance(value, Markup) else Markup(visible(str(value)))


@functools.lru_cache(maxsize=8)
def for_assignment(grader: Path) -> Renderer:
    """The renderer of an assignment (its ``grader/templates`` overriding gatelab's own), one per process: the
    templates are compiled once however many commands, batches or checks use them."""
    return Renderer(grader / "templates")
