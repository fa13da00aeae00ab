"""``%grade``: the ``grade check`` command as an IPython line magic, to check from a notebook cell.

``%load_ext gatelab`` registers it. ``%grade check <module> --verbose`` takes the
arguments of ``grade check``, parsed by that very click command, and returns
the check's result, which the notebook shows as a table. Only ``check`` runs
here: the other commands belong in a terminal. IPython is imported only when
the extension loads, so it never becomes a dependency of gatelab.
"""
from __future__ import annotations

import shlex
from typing import Any

from gatelab import checking

SUBCOMMAND = "check"


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%grade`` with the running IPython."""
    ipython.register_magic_function(grade_magic, magic_kind="line", magic_name="grade")


def grade_magic(line: str) -> checking.CheckResult | None:
    """``%grade check [TARGET] [OPTIONS]``: grade as ``grade check`` does; a mistake in the line is one message.

    Returns ``None`` after ``--help`` (the help is printed). A bad option, an
    unknown target or a broken assignment raises IPython's ``UsageError``,
    which a notebook shows as its message alone, without a traceback.
    """
    import click
    from IPython.core.error import UsageError

    from gatelab import cli
    from gatelab.errors import GatelabError

    try:
        words = shlex.split(line)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"%grade: {exc} in {line!r}") from None
    if not words or words[0] != SUBCOMMAND:
        said = f"'{words[0]}' is not run from a notebook" if words else "say what to run"
        raise UsageError(f"%grade: {said}. In a notebook, %grade runs check, with the arguments of "
                         "grade check (%grade check --help lists them); run the other commands in a terminal.")
    try:
        context = cli.check.make_context(f"%grade {SUBCOMMAND}", words[1:])
    except click.exceptions.Exit:  # --help, already printed
        return None
    except click.ClickException as exc:
        raise UsageError(f"%grade {SUBCOMMAND}: {exc.format_message()}") from None
    options = dict(context.params)
    options.pop("strict", None)  # an exit code; a notebook cell has none
    if options.pop("watch", False):
        raise UsageError(f"%grade {SUBCOMMAND} --watch runs until Ctrl-C, which a notebook cell cannot: run "
                         "grade check --watch in a terminal, or rerun this cell after saving.")
    try:
        return checking.check(**options)
    except GatelabError as exc:
        raise UsageError(f"grade: {exc}") from None
