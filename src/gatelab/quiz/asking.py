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
from gatelab.quiz.bank import LETTERS, Bank, Question, Templates, Variant, variant
from gatelab.quiz.marking import AnswerError, Mark, parse
from gatelab.report.render import Renderer

COMMANDS = {"skip": "leave this question for later", "hint": "show a hint", "quit": "stop; answers so far are saved"}


class Marks(Protocol):
    def mark(self, shown: Variant, raw: Any) -> Mark: ...


@dataclass
class Session:
    """One sitting: which bank, which file, who, and how to talk to the terminal."""

    bank: Bank
    marker: Marks
    path: Path
    student: str
    renderer: Renderer
    ask: Callable[[str], str]
    say: Callable[[str], None]
    templates: Templates = field(default_factory=Templates)

    def run(self, *, redo: bool = False, only: str | None = None) -> tuple[int, int]:
        """Ask the questions still open (all with ``redo``; just ``only`` if given); (asked, answered)."""
        current = answers_file.read(self.path, self.bank.ids)
        for problem in current.problems:
            self.say(f"note: {problem}")
        todo = [q for q in self.bank.questions
                if (only is None or q.id == only) and (redo or only or q.id not in current.values)]
        if not todo:
            self.say(f"All {len(self.bank.questions)} questions are answered; grade quiz --redo asks them again.")
            return 0, 0
        answered = 0
        for number, question in enumerate(todo, start=1):
            outcome = self._one(question, number, len(todo))
            if outcome == "quit":
                break
            answered += outcome == "answered"
        self.say(f"{answered} answer(s) saved to {self.path}. Run grade check to see every mark.")
        return len(todo), answered

    def _one(self, question: Question, number: int, total: int) -> str:
        shown = variant(question, self.student)
        texts = question.choices and [c.text for c in question.choices] or list(question.items)
        self.say(self.renderer.render(
            "question.j2", number=number, total=total, question=question,
            prompt=self.templates.render(question.prompt, shown.values).strip(),
            options=[(LETTERS[pos], self.templates.render(texts[index], shown.values))
                     for pos, index in enumerate(shown.order)],
            commands=COMMANDS))
        hints = list(question.hints)
        while True:
            raw = self.ask("answer").strip()
            command = raw.lower()
            if command in ("quit", "q"):
                return "quit"
            if command == "skip":
                return "skipped"
            if command == "hint":
                self.say(self.templates.render(hints.pop(0), shown.values) if hints else "No more hints.")
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
        parts = text.replace(",", " ").split()
        return [p.lower() for p in (parts if len(parts) > 1 else list(text))]
    if question.type == "single":
        return text.lower()
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
