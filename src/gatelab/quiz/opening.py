"""Which question bank marks a student's answers, and with what: the grader's full bank (``grader/quiz``) and
its marker, or the locked copy a student release carries (``exercises/quiz.lock.yaml``) and its marker.
One place for the choice, for ``grade quiz`` and for grading; a caller that grades again and again keeps
what it read in a ``BankCache``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from gatelab.quiz import loading
from gatelab.quiz.bank import Bank
from gatelab.quiz.lock import LOCK_NAME, LockedBank, LockedMarker, load_locked
from gatelab.quiz.marking import Marker

T = TypeVar("T")
BankKey = tuple[Path, int, int]  # a bank's file, its modification time and size: what a kept bank was read from
BankCache = dict[BankKey, Any]


@dataclass
class Opened:
    """The bank that marks, its marker, and (a full bank) the problems met loading it."""

    bank: Bank
    marker: Marker | LockedMarker
    problems: list[str] = field(default_factory=list)


def lock_path(exercises: Path) -> Path:
    """Where a release's locked bank lies among the exercises."""
    return exercises / LOCK_NAME


def open_bank(grader: Path, exercises: Path, locked: bool, cache: BankCache | None = None) -> Opened:
    """The locked bank beside the ``exercises`` (``locked``: as on a student's machine), or the full bank in
    ``grader/quiz`` with the problems of the questions that failed to load (loaded all the same). Raises what
    loading the locked bank raises (a missing or broken lock file)."""
    if locked:
        path = lock_path(exercises)
        found: LockedBank = cached(cache, path, lambda: load_locked(path))
        return Opened(found.bank, LockedMarker(found))

    def full() -> tuple[Bank, list[str]]:
        problems: list[str] = []
        return loading.load(grader / "quiz", problems), problems

    bank, problems = cached(cache, grader / "quiz", full)
    return Opened(bank, Marker(), list(problems))


def cached(cache: BankCache | None, path: Path, load: Callable[[], T]) -> T:
    """What ``load`` reads from ``path``, kept in ``cache`` (a resident caller's; None: read every time) until
    the file at ``path`` changes (a regenerated locked bank; a bank folder changes the assignment's checksum)."""
    if cache is None:
        return load()
    stat = path.stat() if path.is_file() else None
    key = (path, stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
    if key not in cache:
        cache.clear()  # one version of each bank: what an older file gave is of no more use
        cache[key] = load()
    found: T = cache[key]
    return found
