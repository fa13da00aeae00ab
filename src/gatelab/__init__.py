"""gatelab: an exercise engine and autograder for numpy assignments, with feedback that names the mistake.

From Python or a notebook: ``gatelab.check("module")`` grades your exercises
as ``grade check module`` does, and ``%load_ext gatelab`` adds the ``%grade``
magic. Importing gatelab runs nothing and loads nothing else: both look up
their modules when called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from gatelab.checking import CheckResult

from gatelab.version import __version__

__all__ = ["__version__", "check", "load_ipython_extension"]


def check(target: str | None = None, submission: str | Path | None = None, **options: Any) -> CheckResult:
    """Grade your exercises as ``grade check [TARGET] [--submission DIR]`` does, and return the result.

    The result has ``score``, ``max_score`` and ``tests``; a notebook shows it
    as a table, ``print`` as the command's report. ``options`` are those of
    :func:`gatelab.checking.check`: ``assignment``, ``include_hidden``,
    ``locked``, ``student``, ``verbose``.
    """
    from gatelab import checking

    return checking.check(target, submission, **options)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext gatelab``: adds the ``%grade`` line magic (IPython is needed only here)."""
    from gatelab import magic

    magic.load_ipython_extension(ipython)
