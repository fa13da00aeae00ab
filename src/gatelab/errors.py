"""Errors that stop a command, each with the exit code the CLI returns for it.

    GatelabError            exit 3 unless a subclass says otherwise
    ├── UsageError          exit 2: the command was asked for something that is not there
    ├── ConfigError         exit 3: the assignment (grader/, solutions/) is broken
    └── GraderFault         exit 4: gatelab itself failed; a bug to report

What a *submission* does wrong is never one of these: it is feedback on a
test (see ``judge``), and grading goes on.
"""
from __future__ import annotations

import difflib
from typing import Iterable

EXIT_OK = 0
EXIT_NOT_FULL_MARKS = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_GRADER_FAULT = 4
EXIT_ASSIGNMENT_DEFECT = 5  # graded, every point kept in the maximum, but part of the assignment failed


class GatelabError(Exception):
    """A problem that stops the command; ``where`` says which file and line when known."""

    exit_code = EXIT_CONFIG

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class UsageError(GatelabError):
    exit_code = EXIT_USAGE


class ConfigError(GatelabError):
    exit_code = EXIT_CONFIG


class GraderFault(GatelabError):
    exit_code = EXIT_GRADER_FAULT


def closest(name: str, choices: Iterable[str], cutoff: float = 0.6) -> list[str]:
    """The choices ``name`` most likely means, case aside: one when it is clearly the one (same letters in
    another case, or one slip away), else up to three; none when nothing is as close as ``cutoff``."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    folded = name.casefold()
    if folded in by_folded:
        return [by_folded[folded]]
    ranked = sorted(((difflib.SequenceMatcher(None, folded, c).ratio(), c) for c in by_folded), reverse=True)
    close = [(ratio, by_folded[c]) for ratio, c in ranked if ratio >= cutoff][:3]
    if close and (close[0][0] >= 0.9 or len(close) == 1 or close[0][0] - close[1][0] >= 0.1):
        close = close[:1]
    return [c for _, c in close]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest choices (see :func:`closest`), or an empty string."""
    close = closest(name, choices)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
