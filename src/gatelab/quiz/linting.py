"""The question bank's linter: what ``grade validate`` and the audit say of a bank beyond loading it (texts
that do not render, answers a prompt's stated precision would mark wrong, a right choice that gives itself
away by its length, and the bank-wide tells of ``giveaways``)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gatelab.quiz import giveaways, loading
from gatelab.quiz.bank import TEMPLATE_ERRORS, Bank, Question, Templates
from gatelab.quiz.marking import within
from gatelab.quiz.variants import variant


def _texts_to_render(question: Question) -> list[str]:
    q = question
    texts = [q.prompt, q.explanation, q.feedback_wrong, *q.hints, *q.items]
    texts += [t for c in q.choices for t in (c.text, c.feedback)]
    texts += [w.feedback for w in q.wrong] + [w.answer for w in q.wrong if not w.regex and q.type != "numeric"]
    texts += [a.text for a in q.accepted if not a.regex]
    return texts


LENGTH_MARGIN = 1.15  # a right choice this much longer than every wrong one gives itself away
_PRECISION = re.compile(r"(\d+) (significant figures?|decimal places?)")


def length_tell(question: Question) -> str:
    """Why the right choice(s) stand out by length alone ('' when they do not)."""
    if question.type not in ("single", "multiple"):
        return ""
    right = [len(c.text) for c in question.choices if c.correct]
    wrong = [len(c.text) for c in question.choices if not c.correct]
    if not wrong or min(right) <= LENGTH_MARGIN * max(wrong):
        return ""
    which = "the right choice is" if len(right) == 1 else "every right choice is"
    return (f"{which} longer than every wrong one ({min(right)} characters against at most {max(wrong)}), "
            "so length gives the answer away: make the wrong choices as specific, or the right one shorter")


def _stated_round(value: float, prompt: str) -> float | None:
    """``value`` rounded as the prompt asks ("3 significant figures", "2 decimal places"), or None if it says not."""
    stated = _PRECISION.search(prompt)
    if stated is None:
        return None
    digits = int(stated.group(1))
    if stated.group(2).startswith("decimal"):
        return round(value, digits)
    return float(f"{value:.{digits}g}") if digits > 0 else value


def _precision_problems(q: Question, templates: Templates, values: dict[str, Any]) -> list[str]:
    """A numeric answer that is not a whole number must say how precisely to give it, and accept that."""

    right = templates.number(q.answer, values)
    rounded = _stated_round(right, templates.render(q.prompt, values))
    if rounded is None:
        return [] if float(right).is_integer() else [
            f"the answer {right:g} (for {values}) is not a whole number, and the prompt does not say how precisely "
            "to give it (e.g. '3 significant figures' or '2 decimal places')"]
    if not within(rounded, right, q.tolerance):
        return [f"the prompt's precision gives {rounded:g} for {values}, which the tolerance "
                f"{q.tolerance[0]} {q.tolerance[1]:g} does not accept (the right answer is {right:g})"]
    return []


def _lint_question(question: Question, templates: Templates, seeds: int) -> list[str]:
    q = question
    problems = [tell] if (tell := length_tell(q)) else []
    for accepted in (a for a in q.accepted if a.regex):
        try:
            if re.fullmatch(accepted.text, accepted.example.strip().lower()) is None:
                problems.append(f"the regex {accepted.text!r} does not match its own example {accepted.example!r}")
        except re.error as exc:
            problems.append(f"the regex {accepted.text!r} is not valid: {exc}")
    for wrong in (w for w in q.wrong if w.regex):
        try:
            re.compile(wrong.answer)
        except re.error as exc:
            problems.append(f"the wrong-answer regex {wrong.answer!r} is not valid: {exc}")
    for name, texts in (("choices", [c.text for c in q.choices]), ("items", list(q.items))):
        if len(set(texts)) != len(texts):
            problems.append(f"two {name} have the same text")
    seen_values: set[str] = set()
    for n in range(seeds):
        shown = variant(q, f"seed-{n}")
        key = repr(sorted(shown.values.items()))
        if key in seen_values:
            continue
        seen_values.add(key)
        try:
            for text in _texts_to_render(q):
                templates.render(text, shown.values)
            if q.type == "numeric":
                problems += [p for p in _precision_problems(q, templates, shown.values) if p not in problems]
                right = templates.number(q.answer, shown.values)
                for wrong in q.wrong:
                    value = templates.number(wrong.answer, shown.values)
                    kind, amount = q.tolerance
                    if abs(value - right) <= (amount if kind == "abs" else amount * abs(right)):
                        problems.append(f"a wrong answer equals the right one for {shown.values}")
        except TEMPLATE_ERRORS as exc:
            problems.append(f"a template fails for variables {shown.values}: {type(exc).__name__}: {exc}")
            break
    return problems


def _longest_right(bank: Bank) -> list[str]:
    """A bank where the right choice is the longest in most single-choice questions teaches "pick the longest"."""
    singles = [q for q in bank.questions if q.type == "single"]
    longest = [q for q in singles
               if all(len(c.text) > len(o.text) for c in q.choices if c.correct for o in q.choices if not o.correct)]
    if len(singles) < 4 or 2 * len(longest) <= len(singles):
        return []
    return [f"{longest[0].where}: the right choice is the longest in {len(longest)} of {len(singles)} single-choice "
            f"questions ({', '.join(q.id for q in longest)}): at most half, so that length gives nothing away"]


def lint(bank: Bank, templates: Templates | None = None, seeds: int = 100) -> list[str]:
    """Problems a schema cannot see: regexes against their examples, templates over ``seeds`` students,
    choices whose length gives the answer away, numeric answers without a stated precision."""
    templates = templates or Templates()
    return [f"{q.where}: question {q.id!r}: {p}" for q in bank.questions
            for p in _lint_question(q, templates, seeds)] + _longest_right(bank)


def validate(folder: Path, seeds: int = 100) -> tuple[Bank, list[str]]:
    """The bank and every problem in it (schema first, then lint), each with file:line and id."""

    errors: list[str] = []
    bank = loading.load(folder, errors)
    return bank, errors + lint(bank, seeds=seeds) + giveaways.tells(bank)
