"""Grading code: the sandbox and its worker, the wire format, inputs, the judge, diagnostics, the pytest plugin.

``grade`` (in ``run``) is the entry point. The worker imports this package too,
so it loads nothing here: ``grade`` and its companions are looked up lazily.
"""
from __future__ import annotations

from typing import Any

_LAZY = ("grade", "QUIZ_MODES")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from gatelab.grading import run

        return getattr(run, name)
    raise AttributeError(f"module 'gatelab.grading' has no attribute {name!r}")
