"""Each student's variant of a question: its variables drawn from a seed (the student id), its choices or
items in an order shuffled per student, never an ordering already solved. Same student, same variant, in
the full bank and in the locked copy alike."""
from __future__ import annotations

import hashlib
import random
import zlib

from gatelab.quiz.bank import Question, Variant


def same_id(student: str) -> str:
    """A student id as it picks numbers: case and surrounding spaces aside, so ``JSmith`` (GitHub's spelling)
    and ``jsmith``, or ``Ada@Uni.edu`` and ``ada@uni.edu``, are one student."""
    return student.strip().casefold()


def student_rng(student: str, question_id: str) -> random.Random:
    """The generator for one student's variant of one question: same student, same variant."""
    return random.Random(zlib.crc32(f"{same_id(student)}\x00{question_id}".encode()))


def texts_of(question: Question) -> list[str]:
    """The raw (unrendered) texts of a question's choices or ordering items."""
    return [c.text for c in question.choices] if question.choices else list(question.items)


def variant(question: Question, student: str) -> Variant:
    """The student's variant: one value per variable, and a display order shuffled per student.

    The order starts from the texts sorted, not the file order, so the full bank
    and the locked bank (which stores them sorted) show a student the same letters.
    """
    rng = student_rng(student, question.id)
    values = {name: rng.choice(list(options)) for name, options in question.variables}
    texts = texts_of(question)
    order = list(range(len(texts)))
    if question.shuffle and question.type in ("single", "multiple", "ordering"):
        order.sort(key=lambda i: texts[i])
        rng.shuffle(order)
        if question.type == "ordering" and is_solved(question, [texts[i] for i in order]):
            order = order[1:] + order[:1]  # never show an ordering question already solved
    return Variant(question, values, order)


def order_digest(question_id: str, texts: list[str]) -> str:
    """A digest of an order of items, so a locked copy can tell the solved order without holding it."""
    return hashlib.sha256("\x1e".join([question_id, *texts]).encode()).hexdigest()[:32]


def is_solved(question: Question, shown: list[str]) -> bool:
    """Whether items shown in this order would already be the answer."""
    if question.solved_digest:
        return order_digest(question.id, shown) == question.solved_digest
    return shown == list(question.items)
