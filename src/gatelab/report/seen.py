"""What the student's last check said of each question, kept beside their answers, so that the next check
shows the feedback only of the questions whose mark or feedback changed (``--verbose`` shows every one).

Once a quiz is answered, every check would print every explanation again: dozens of paragraphs around the
one answer just changed. The file holds a digest per question (its mark, score and feedback), no answer.
A folder that cannot be written (read-only, a notebook's copy) just shows everything, every time.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from gatelab.report.results import TestResult

SEEN_NAME = ".gatelab-quiz-seen.json"


def _digest(test: TestResult) -> str:
    return hashlib.sha256(f"{test.mark}\x1f{test.score!r}\x1f{test.feedback}".encode()).hexdigest()[:16]


def _read(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / SEEN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def unchanged(folder: Path, questions: Iterable[TestResult]) -> set[str]:
    """The names of the questions whose mark and feedback are those of the last check in ``folder``."""
    seen = _read(folder)
    return {t.name for t in questions if seen.get(t.name) == _digest(t)}


def remember(folder: Path, questions: Iterable[TestResult]) -> None:
    """Keep what this check said of ``questions`` (the others' entries stay, for a check of one question); a
    check that marked none writes nothing."""
    questions = list(questions)
    if not questions:
        return
    seen = _read(folder)
    seen.update({t.name: _digest(t) for t in questions})
    try:
        (folder / SEEN_NAME).write_text(json.dumps(seen, sort_keys=True, indent=0), encoding="utf-8")
    except OSError:
        pass
