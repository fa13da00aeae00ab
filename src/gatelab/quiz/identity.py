"""Who answers the quiz: the student id that picks variants, and reading answers given under another id.

The id picks each question's numbers and the order of its letters. Locally it
is the ``student:`` line of ``answers.yaml``, else a stable default (the login
name), which ``grade quiz`` shows and saves; when grading, the LMS's id (Gradescope: the account's email;
GitHub Classroom: the username; ``grade batch``: the submission's name), case aside. When
``answers.yaml`` was written under another id than the one graded, letters
are read as *that* id showed them, so a choice keeps its meaning (its text),
not its letter. A question whose numbers differ between the two ids is marked
with the graded id's numbers, and the feedback says so: the numbers a student
answered are not the question they are graded on, and letting the file pick
the numbers would let anyone copy another student's variant.
"""
from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gatelab.quiz import answers as answers_file
from gatelab.quiz.answers import Answers
from gatelab.quiz.bank import Bank, Question, Variant
from gatelab.quiz.marking import AnswerError, Mark, parse
from gatelab.quiz.variants import same_id, variant

FALLBACK = "student"


class Marks(Protocol):
    def mark(self, shown: Variant, raw: Any) -> Mark: ...


def local_default() -> str:
    """A stable id on this machine: the login name (letters, digits, ``._-``), else ``student``."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (some containers)
        return FALLBACK
    return re.sub(r"[^A-Za-z0-9._-]", "", name) or FALLBACK


@dataclass
class Reading:
    """How to read one answers file: ``graded`` picks the numbers, ``answered`` the letters the student saw."""

    graded: str
    answered: str
    unreadable: str = ""  # the problem, when no answer in the file could be read
    _numbers_differ: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, answers: Answers, graded: str | None = None) -> Reading:
        """``graded``: the LMS's or ``--student`` id; default the file's own, else the local default."""
        answered = answers.student or graded or local_default()
        return cls(graded or answered, answered, answers.unreadable)

    @property
    def same(self) -> bool:
        return same_id(self.graded) == same_id(self.answered)

    def variant(self, question: Question) -> Variant:
        """The graded id's numbers, in the order of letters the answering id was shown."""
        shown = variant(question, self.graded)
        if not self.same:
            shown.order = variant(question, self.answered).order
        return shown

    def numbers_differ(self, question: Question) -> bool:
        """Whether the two ids were given different numbers for this question."""
        if question.id not in self._numbers_differ:
            self._numbers_differ[question.id] = not self.same and bool(question.variables) and \
                variant(question, self.graded).values != variant(question, self.answered).values
        return self._numbers_differ[question.id]

    def mark(self, marker: Marks, question: Question, answers: Answers) -> Mark:
        """The mark of the answer to ``question`` (a whole unreadable file marks every question so)."""
        if self.unreadable:
            return Mark(0.0, question.points, "unreadable", f"Your answers could not be read: {self.unreadable}")
        raw = answers.values.get(question.id)
        mark = marker.mark(self.variant(question), raw)
        if raw is not None and mark.status != "correct" and self.numbers_differ(question):
            mark.feedback += (f"\nThis answer was given for the numbers of id {self.answered!r}; you are graded "
                              f"as {self.graded!r}, whose numbers differ: answer it with "
                              f"grade quiz --student {self.graded} --redo {question.id}")
        return mark

    def notice(self, bank: Bank, answers: Answers) -> str:
        """What to tell a student whose file was written under another id ('' when it was not)."""
        if self.same or self.unreadable or not answers.values:
            return ""
        renumbered = [q.id for q in bank.questions if q.id in answers.values and self.numbers_differ(q)]
        text = (f"{answers.shown_as} was written for student id {self.answered!r}, and you are graded as "
                f"{self.graded!r}: your letters are read as {self.answered!r} saw them, so each choice keeps "
                "its meaning.")
        if renumbered:
            text += (f" {len(renumbered)} answered question(s) have other numbers for {self.graded!r} "
                     f"({', '.join(renumbered)}): run grade quiz --student {self.graded} to answer them again.")
        return text


def switch(path: Path, bank: Bank, new: str) -> list[str]:
    """Move ``path``'s answers to student id ``new``: letters rewritten to show the same choices.

    Returns the ids of the answered questions whose numbers differ for ``new``:
    those answers were for other numbers, and ``grade quiz`` asks them again.
    """
    current = answers_file.read(path, bank.ids)
    old = current.student
    if current.unreadable or old is None or old == new:
        if not current.unreadable and old is None:
            answers_file.write(path, answers_file.STUDENT_KEY, new)
        return []
    reading = Reading(new, old)
    stale = []
    for question in bank.questions:
        raw = current.values.get(question.id)
        if raw is None:
            continue
        if reading.numbers_differ(question):
            stale.append(question.id)
        if question.type in ("single", "multiple", "ordering"):
            try:
                answers_file.write(path, question.id, _letters(question, parse(question, reading.variant(question),
                                                                               raw), new))
            except AnswerError:
                continue  # left as written; marking says why it cannot be read
    answers_file.write(path, answers_file.STUDENT_KEY, new)
    return stale


def _letters(question: Question, parsed: Any, student: str) -> Any:
    """A parsed choice answer (bank indices) as the letters ``student`` is shown."""
    shown = variant(question, student)
    if question.type == "single":
        return shown.letter_of(parsed)
    letters = [shown.letter_of(i) for i in parsed]
    return sorted(letters) if question.type == "multiple" else letters
