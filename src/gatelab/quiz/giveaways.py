"""Tells across a question bank: patterns a student who knows nothing could score with.

Each check measures one habit of test-wise guessing (the bank-wide kind that no single question shows):
every multiple-select question having the same number of right options, true/false statements mostly of one
answer, absolute words ("always", "never") only in what is wrong, and a question id that names its answer.
``grade validate`` reports them with the file and line of a question that shows the pattern.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from gatelab.quiz.bank import Bank, Question

ABSOLUTES = re.compile(r"\b(always|never)\b", re.I)
_WORD = re.compile(r"[a-z]+")
STEM = 5  # letters two words share to count as one (saturation, saturated)
TF_SHARE = 0.6  # at most this share of the true/false statements may have one answer (7 of 12)
LEAST = 4  # fewer questions of a kind than this show no pattern


def _stems(text: str) -> set[str]:
    return {w[:STEM] for w in _WORD.findall(text.lower()) if len(w) >= 4}


def right_counts(questions: Iterable[Question]) -> list[str]:
    """Every multiple-select question with the same number of right options teaches that number."""
    multiple = [q for q in questions if q.type == "multiple"]
    counts = Counter((sum(c.correct for c in q.choices), len(q.choices)) for q in multiple)
    if len(multiple) < LEAST or len(counts) > 1:
        return []
    (right, total), = counts
    return [f"{multiple[0].where}: all {len(multiple)} multiple-select questions have exactly {right} of {total} "
            f"options right ({', '.join(q.id for q in multiple)}): vary how many are right"]


def true_false_balance(questions: Iterable[Question]) -> list[str]:
    """Mostly-false (or mostly-true) statements let "always answer false" pass."""
    statements = [q for q in questions if q.type == "true_false"]
    if len(statements) < LEAST:
        return []
    answers = Counter(bool(q.answer) for q in statements)
    side, count = answers.most_common(1)[0]
    if count <= TF_SHARE * len(statements):
        return []
    first = next(q for q in statements if bool(q.answer) == side)
    return [f"{first.where}: {count} of {len(statements)} true/false statements are {str(side).lower()}: keep "
            f"either answer to at most {TF_SHARE:.0%}, so that guessing one answer does not pass"]


def absolutes(questions: Iterable[Question]) -> list[str]:
    """Absolute words only in wrong options (and false statements) teach "an absolute is wrong"."""
    found: list[tuple[bool, Question]] = []
    for q in questions:
        if q.type in ("single", "multiple"):
            found += [(c.correct, q) for c in q.choices if ABSOLUTES.search(c.text)]
        elif q.type == "true_false" and ABSOLUTES.search(q.prompt):
            found.append((bool(q.answer), q))
    if len(found) < LEAST or any(right for right, _ in found):
        return []
    ids = list(dict.fromkeys(q.id for _, q in found))
    return [f"{found[0][1].where}: absolute words (always, never) appear {len(found)} times, only "
            f"in wrong options and false statements ({', '.join(ids[:6])}{'...' if len(ids) > 6 else ''}): write "
            "true ones too, so that an absolute gives nothing away"]


def _answers(q: Question) -> tuple[set[str], set[str]]:
    """The stems of a question's right answer(s), and of its wrong options."""
    if q.type == "short_text":
        return set().union(*(_stems(a.text) for a in q.accepted if not a.regex)), set()
    if q.type in ("single", "multiple"):
        right = set().union(*(_stems(c.text) for c in q.choices if c.correct))
        return right, set().union(*(_stems(c.text) for c in q.choices if not c.correct))
    return set(), set()


def ids_naming_answers(questions: Iterable[Question]) -> list[str]:
    """An id whose word is in the right answer, and neither in the prompt nor in a wrong option, gives it away:
    ids show in the quiz and in the answers file."""
    problems = []
    for q in questions:
        right, wrong = _answers(q)
        named = sorted((_stems(q.id.replace("-", " ")) & right) - wrong - _stems(q.prompt))
        if named:
            problems.append(f"{q.where}: question {q.id!r}: its id names the answer ({', '.join(named)}...), which "
                            "students see beside the question: give it a neutral id")
    return problems


def tells(bank: Bank) -> list[str]:
    """Every bank-wide tell, each with the file and line of a question that shows it."""
    questions = bank.questions
    return right_counts(questions) + true_false_balance(questions) + absolutes(questions) + \
        ids_naming_answers(questions)
