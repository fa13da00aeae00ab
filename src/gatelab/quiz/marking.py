"""Marking one answer to one question: parse it, score it, and say why.

Answers come from ``answers.yaml`` (or ``grade quiz``). Choice and ordering
answers are letters as the student saw them (the order is shuffled per
student); ``parse`` maps them back to the bank's own choices, so marking does
not depend on the order shown.

Scoring rules (also in docs/instructor/quiz.md):
- single, true_false, numeric, short_text: all or nothing;
- multiple: points x max(0, (right picks - wrong picks) / number of right choices);
- ordering: points x max(0, (pairs in the right relative order - pairs in the wrong one) / all pairs),
  so a random order earns nothing on average beyond luck; full points only for the exact order.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from gatelab.quiz.bank import LETTERS, Question, Templates, Variant

_TRUE = {"true", "t", "yes", "y"}
_FALSE = {"false", "f", "no", "n"}


class AnswerError(ValueError):
    """An answer of the wrong form for its question (not a wrong answer: a malformed one)."""


@dataclass
class Mark:
    """The score for one answer and the feedback that goes with it."""

    score: float
    max_score: float
    status: str  # correct, partial, wrong, unanswered, invalid, unreadable (the whole file), unknown
    feedback: str

    def out_of(self, points: float) -> Mark:
        """The same mark out of ``points`` (the config's quiz share): the same share earned, so nothing earned
        stays nothing and full marks stay exactly full."""
        earned = self.score / self.max_score if self.max_score else 0.0
        return Mark(points if earned == 1 else earned * points, points, self.status, self.feedback)


def normalise(text: str) -> str:
    """Lower case, whitespace collapsed, outer spaces and a final full stop removed."""
    return re.sub(r"\s+", " ", str(text)).strip().lower().rstrip(".").strip()


def _letters(raw: Any, count: int, what: str) -> list[int]:
    """Display positions from ``"b"``, ``"d)"``, ``"(D)"``, ``"a, c"``, ``"cab"`` or ``["a", "c"]``."""
    if isinstance(raw, list):
        parts = [letters_typed(str(p)) for p in raw]
    elif isinstance(raw, str):
        text = letters_typed(raw)
        parts = text.split() if " " in text else list(text)
    else:
        raise AnswerError(f"expected {what}, got {type(raw).__name__} {raw!r}")
    valid = LETTERS[:count]
    positions = []
    for part in (p.strip() for p in parts if p.strip()):
        if len(part) != 1 or part not in valid:
            raise AnswerError(f"{part!r} is not one of the letters {', '.join(valid)}")
        positions.append(valid.index(part))
    return positions


def letters_typed(text: str) -> str:
    """Letters as people write them, ``d)``, ``(d)``, ``D``, ``d.``, ``[a, c]``: lower case, marks to spaces."""
    return re.sub(r"[\s,;()\[\].:]+", " ", text.lower()).strip()


def parse(question: Question, shown: Variant, raw: Any) -> Any:
    """The answer in the bank's own terms: choice indices, a bool, a float or normalised text."""
    kind = question.type
    count = len(shown.order)
    if kind == "single":
        positions = _letters(raw, count, "one letter")
        if len(positions) != 1:
            raise AnswerError("choose exactly one letter")
        return shown.order[positions[0]]
    if kind == "multiple":
        return sorted({shown.order[p] for p in _letters(raw, count, "a list of letters")})
    if kind == "ordering":
        positions = _letters(raw, count, "the letters in order")
        if sorted(positions) != list(range(count)):
            raise AnswerError(f"give every letter {', '.join(LETTERS[:count])} exactly once, in order")
        return [shown.order[p] for p in positions]
    if kind == "true_false":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and normalise(raw) in _TRUE | _FALSE:
            return normalise(raw) in _TRUE
        raise AnswerError(f"expected true or false, got {raw!r}")
    if kind == "numeric":
        if isinstance(raw, bool):
            raise AnswerError(f"expected a number, got {raw!r}")
        try:
            value = float(str(raw).replace("_", "").strip())
        except ValueError:
            raise AnswerError(f"expected a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise AnswerError("expected a finite number")
        return value
    if isinstance(raw, (dict, list)) or raw is None:
        raise AnswerError(f"expected a short text, got {type(raw).__name__}")
    return normalise(str(raw))


def read_answer(shown: Variant, raw: Any) -> tuple[Any, Mark | None]:
    """(the parsed answer, None), or (None, the mark) when it is missing or cannot be read."""
    points = shown.question.points
    if raw is None:
        return None, Mark(0.0, points, "unanswered", "Not answered yet (run grade quiz).")
    try:
        return parse(shown.question, shown, raw), None
    except AnswerError as exc:
        return None, Mark(0.0, points, "invalid", f"This answer cannot be read: {exc}.")


def within(value: float, target: float, tolerance: tuple[str, float]) -> bool:
    kind, amount = tolerance
    allowed = amount if kind == "abs" else amount * abs(target)
    return abs(value - target) <= allowed + 1e-12 * max(1.0, abs(target))


def text_matches(answer: str, pattern: str, regex: bool) -> bool:
    """Whether a normalised answer matches an accepted (or known wrong) text or regex."""
    if regex:
        try:
            return re.fullmatch(pattern, answer) is not None
        except re.error:
            return False
    return answer == normalise(pattern)


def multiple_score(hits: int, wrong_picks: int, right_choices: int) -> float:
    """A multiple-select answer's share of the points: right picks less wrong ones, over the right choices, at
    least 0 (the rule grading and a marked local check both use)."""
    return max(0.0, (hits - wrong_picks) / right_choices) if right_choices else 0.0


def ordering_score(right_pairs: int, pairs: int) -> float:
    """An ordering's share of the points: pairs of items in the right relative order, corrected for chance (a
    random order gets half the pairs right on average, so only pairs beyond that pay: Kendall's tau, at least
    0). The rule grading and a marked local check both use."""
    return max(0.0, (right_pairs - (pairs - right_pairs)) / pairs) if pairs else 1.0


def _ordering_score(order: list[int]) -> float:
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]
    return ordering_score(sum(a < b for a, b in pairs), len(pairs))


def missed(right_choices: int, hits: int) -> str:
    """What a multiple-select answer is told of the right choices it left out."""
    return f"{right_choices - hits} right choice(s) not selected." if hits < right_choices else ""


class Marker:
    """Marks answers against the full bank (the autograder's view)."""

    def __init__(self, templates: Templates | None = None) -> None:
        self.templates = templates or Templates()

    def text(self, shown: Variant, text: str) -> str:
        return self.templates.render(text, shown.values).strip()

    def mark(self, shown: Variant, raw: Any) -> Mark:
        question = shown.question
        answer, early = read_answer(shown, raw)
        if early:
            return early
        fraction, said = self._judge(shown, answer)
        status = "correct" if fraction == 1 else ("partial" if fraction > 0 else "wrong")
        return Mark(question.points * fraction, question.points, status, self._compose(shown, status, said))

    def _compose(self, shown: Variant, status: str, said: list[str]) -> str:
        question = shown.question
        head = {"correct": "Correct.", "partial": "Partly right.", "wrong": "Not right."}[status]
        lines = [head, *said]
        if status != "correct" and question.hints:
            lines += [f"Hint: {self.text(shown, h)}" for h in question.hints]
        lines.append(f"Explanation: {self.text(shown, question.explanation)}")
        return "\n".join(line for line in lines if line)

    def _judge(self, shown: Variant, answer: Any) -> tuple[float, list[str]]:
        """(fraction of the points, what to say) for a parsed answer."""
        q = shown.question
        if q.type == "single":
            choice = q.choices[answer]
            return (1.0, []) if choice.correct else \
                (0.0, [f"({shown.letter_of(answer)}) {self.text(shown, choice.feedback)}"])
        if q.type == "multiple":
            right = [i for i, c in enumerate(q.choices) if c.correct]
            wrong_picks = [i for i in answer if not q.choices[i].correct]
            hits = len(set(answer) & set(right))
            said = [f"({shown.letter_of(i)}) {self.text(shown, q.choices[i].feedback)}" for i in wrong_picks]
            said.append(missed(len(right), hits))
            return multiple_score(hits, len(wrong_picks), len(right)), said
        if q.type == "true_false":
            return (1.0, []) if answer == q.answer else (0.0, [self.text(shown, q.feedback_wrong)])
        if q.type == "numeric":
            if within(answer, self.templates.number(q.answer, shown.values), q.tolerance):
                return 1.0, []
            for wrong in q.wrong:
                if within(answer, self.templates.number(wrong.answer, shown.values), q.tolerance):
                    return 0.0, [self.text(shown, wrong.feedback)]
            return 0.0, [self.text(shown, q.feedback_wrong)]
        if q.type == "short_text":
            if any(text_matches(answer, self.text(shown, a.text), a.regex) for a in q.accepted):
                return 1.0, []
            for wrong in q.wrong:
                if text_matches(answer, self.text(shown, wrong.answer), wrong.regex):
                    return 0.0, [self.text(shown, wrong.feedback)]
            return 0.0, [self.text(shown, q.feedback_wrong)]
        score = 1.0 if answer == sorted(answer) else _ordering_score(answer)
        said = [] if score == 1.0 else [self.text(shown, q.feedback_wrong) or "The order is not right."]
        return score, said


def right_answer(shown: Variant, templates: Templates) -> Any:
    """The answer a student who knows it would give, in answers.yaml form (letters for choices)."""
    q = shown.question
    if q.type == "single":
        return shown.letter_of(next(i for i, c in enumerate(q.choices) if c.correct))
    if q.type == "multiple":
        return sorted(shown.letter_of(i) for i, c in enumerate(q.choices) if c.correct)
    if q.type == "ordering":
        return [shown.letter_of(i) for i in range(len(q.items))]
    if q.type == "true_false":
        return q.answer
    if q.type == "numeric":
        value = templates.number(q.answer, shown.values)
        return int(value) if value.is_integer() else value
    first = next((a for a in q.accepted if not a.regex), q.accepted[0])
    return first.example if first.regex else templates.render(first.text, shown.values)
