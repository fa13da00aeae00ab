"""What ``grade generate`` writes, and whether what is on disk is still what it would write.

- ``exercises/*.py``: stubs from ``solutions/`` (``stubs``);
- ``exercises/quiz.lock.yaml``: the students' locked question bank (``lock``), under a random salt made
  the first time and kept after, so that regenerating is reproducible;
- ``solutions/answers.yaml``: the answer key, for the student id ``reference``,
  so that ``solutions/`` stays a full-marks submission, quiz included.
"""
from __future__ import annotations

from pathlib import Path

from gatelab.authoring import stubs
from gatelab.course.config import Assignment
from gatelab.errors import ConfigError
from gatelab.quiz import answers, loading, lock, variants
from gatelab.quiz import bank as quiz
from gatelab.quiz.marking import right_answer
from gatelab.report.render import Renderer

KEY_STUDENT = "reference"


def answer_key(bank: quiz.Bank, renderer: Renderer) -> str:
    """``answers.yaml`` text with the right answer to every question, for the student ``reference``."""
    templates = quiz.Templates()
    rows = []
    for question in bank.questions:
        try:
            rows.append((question.id, answers.dump_value(right_answer(variants.variant(question, KEY_STUDENT),
                                                                      templates))))
        except quiz.TEMPLATE_ERRORS as exc:
            raise ConfigError(f"question {question.id!r}: a template fails: {type(exc).__name__}: {exc}",
                              question.where) from None
    return renderer.render("answer_key.j2", student=KEY_STUDENT, rows=rows)


def planned(assignment: Assignment) -> dict[Path, str]:
    """Every file ``grade generate`` writes, with its text."""
    from gatelab.report import render
    renderer = render.for_assignment(assignment.grader)
    functions: dict[str, list[str]] = {}
    for fn in assignment.contract.functions:
        functions.setdefault(fn.module, []).append(fn.name)
    files = {assignment.exercises / name: text
             for name, text in stubs.render_exercises(assignment.solutions, renderer, functions).items()}
    bank = loading.load(assignment.grader / "quiz")
    if bank.questions:
        path = assignment.exercises / lock.LOCK_NAME
        salt = lock.salt_of(path) or lock.new_salt()  # random once, then kept: regenerating changes nothing
        files[path] = lock.lock_bank(bank, salt, marked=assignment.local_feedback == "marked")
        files[assignment.solutions / answers.ANSWERS_NAME] = answer_key(bank, renderer)
    return files


def stale(assignment: Assignment) -> list[Path]:
    """Generated files that are missing or differ from what would be written now."""
    return [path for path, text in planned(assignment).items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text]


def write(assignment: Assignment) -> list[Path]:
    """Write every generated file that changed; returns those."""
    changed = stale(assignment)
    files = planned(assignment)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
    return changed
