"""``grade quiz``: asking the concept questions in a terminal, one at a time.

Every answer is written to ``answers.yaml`` as soon as it is given, so the
session can stop at any point (``quit``, Ctrl-D, Ctrl-C) and resume later:
answered questions are skipped unless the student asks to redo them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from gatelab.quiz import answers as answers_file
from gatelab.quiz import identity
from gatelab.quiz.bank import LETTERS, Bank, Question, Templates, Variant
from gatelab.quiz.marking import AnswerError, Mark, letters_typed, parse
from gatelab.quiz.variants import variant
from gatelab.report.render import Renderer

COMMANDS = {"skip": "leave this question for later", "hint": "show a hint", "quit": "stop; answers so far are saved"}


class Marks(Protocol):
    def mark(self, shown: Variant, raw: Any) -> Mark: ...


class UnreadableAnswers(Exception):
    """answers.yaml exists but cannot be read: nothing is asked, so nothing is written into it."""


WHO_GRADES = ("When graded, the grader's id for you picks them: on Gradescope your account's email, on GitHub "
              "Classroom your GitHub username (case aside); answer with those numbers now with "
              "grade quiz --student THAT-ID.")


@dataclass
class Session:
    """One sitting: which bank, which file, who (``student``: asked for, or None), and the terminal."""

    bank: Bank
    marker: Marks
    path: Path
    student: str | None
    renderer: Renderer
    ask: Callable[[str], str]
    say: Callable[[str], None]
    templates: Templates = field(default_factory=Templates)
    points: dict[str, float] = field(default_factory=dict)  # each question's points as graded (the quiz share)

    def run(self, *, redo: bool = False, only: str | None = None) -> tuple[int, int]:
        """Ask the questions still open (all with ``redo``; just ``only`` if given); (asked, answered)."""
        current = answers_file.read(self.path, self.bank.ids)
        if current.unreadable:
            raise UnreadableAnswers(f"answers could not be read: {current.unreadable} Nothing was asked, "
                                    "so nothing was written into it.")
        for problem in current.problems:
            self.say(f"note: {problem}")
        who, stale = self._who(current)
        answered_ids = set(current.values) - set(stale)
        todo = [q for q in self.bank.questions
                if (only is None or q.id == only) and (redo or only or q.id not in answered_ids)]
        if not todo:
            self.say(f"All {len(self.bank.questions)} questions are answered; grade quiz --redo asks them again.")
            return 0, 0
        left = len([q for q in self.bank.questions if q.id not in answered_ids])
        self.say(f"{left} of {len(self.bank.questions)} questions open.")
        answered = 0
        for question in todo:
            outcome = self._one(question, self.bank.questions.index(question) + 1, who)
            if outcome == "quit":
                break
            answered += outcome == "answered"
        self.say(f"{answered} answer(s) saved to {self.path}. Run grade check to see every mark.")
        return len(todo), answered

    def _who(self, current: answers_file.Answers) -> tuple[str, list[str]]:
        """The id to ask as, said and saved, and the answers whose numbers changed with it."""
        if self.student and current.student and self.student != current.student:
            stale = identity.switch(self.path, self.bank, self.student)
            self.say(f"Student id: {self.student} (was {current.student}; your choice answers were rewritten "
                     "with the letters this id shows, so they keep their meaning"
                     + (f"; {len(stale)} answer(s) with numbers that changed are asked again)" if stale else ")"))
            return self.student, stale
        who = self.student or current.student or identity.local_default()
        if current.student is None:
            answers_file.write(self.path, answers_file.STUDENT_KEY, who)
        source = ("--student" if self.student else "answers.yaml" if current.student else
                  "your login name, saved in answers.yaml")
        self.say(f"Student id: {who} (from {source}). It picks your numbers and the order of the letters. "
                 f"{WHO_GRADES}")
        return who, []

    def _one(self, question: Question, number: int, who: str) -> str:
        shown = variant(question, who)
        texts = question.choices and [c.text for c in question.choices] or list(question.items)
        hints = list(question.hints)
        commands = {name: text for name, text in COMMANDS.items() if name != "hint" or hints}
        self.say(self.renderer.render(
            "question.j2", number=number, total=len(self.bank.questions), question=question,
            points=round(self.points.get(question.id, question.points), 2),
            prompt=self.templates.render(question.prompt, shown.values).strip(),
            options=[(LETTERS[pos], self.templates.render(texts[index], shown.values))
                     for pos, index in enumerate(shown.order)],
            commands=commands))
        while True:
            raw = self.ask("answer").strip()
            command = raw.lower()
            if command in ("quit", "q"):
                return "quit"
            if command == "skip":
                return "skipped"
            if command == "hint":
                self.say(self.templates.render(hints.pop(0), shown.values) if hints else
                         "No more hints." if question.hints else "This question has no hint.")
                continue
            value = _value(question, raw)
            try:
                parse(question, shown, value)
            except AnswerError as exc:
                self.say(f"That cannot be read: {exc}. Try again (or skip).")
                continue
            answers_file.write(self.path, question.id, value)
            self.say(self.marker.mark(shown, value).feedback + "\n")
            return "answered"


def _value(question: Question, raw: str) -> Any:
    """What to store for a typed answer: letter lists, booleans and numbers as such, text as typed."""
    text = raw.strip()
    if question.type in ("multiple", "ordering"):
        bare = letters_typed(text)
        parts = bare.split()
        return parts if len(parts) > 1 else list(bare)
    if question.type == "single":
        return letters_typed(text)
    if question.type == "true_false":
        return {"true": True, "t": True, "yes": True, "y": True,
                "false": False, "f": False, "no": False, "n": False}.get(text.lower(), text)
    if question.type == "numeric":
        try:
            number = float(text.replace("_", ""))
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    return text
