"""Grading code: the sandbox and its worker, the wire format, inputs, the judge, diagnostics, the pytest plugin.

``grade`` (in ``run``) is the entry point. The worker imports this package too,
so it loads nothing here: ``grade`` and its companions are looked up lazily.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names below are, for the type checker
    from gatelab.grading.run import QUIZ_MODES as QUIZ_MODES
    from gatelab.grading.run import Request as Request
    from gatelab.grading.run import grade as grade

_LAZY = ("grade", "Request", "QUIZ_MODES")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from gatelab.grading import run

        return getattr(run, name)
    raise AttributeError(f"module 'gatelab.grading' has no attribute {name!r}")
