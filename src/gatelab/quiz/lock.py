"""The locked question bank (format 2): the student's copy, from which no answer can be read.

Nothing in it is plain text that depends on an answer: each right answer is
kept only as a check value derived from it with PBKDF2 (per variant, for
parametrized questions), and every feedback text (a wrong choice's, a known
wrong answer's, a true/false question's, the explanation) is sealed under
the key of the answer that earns it (``seal``), so it opens only when the
student gives that answer. Feedback that every wrong answer would earn
cannot be tied to one and is not shipped; the autograder gives it.

``local_feedback: unmarked`` (the default) ships no check values and no
sealed texts at all: the local check says an answer was read, and only the
autograder marks it. ``marked`` suits practice quizzes, with the honest limit
that a question with few possible answers (true/false, choices, an ordering,
a numeric grid as fine as its tolerance) gives its answer to whoever tries
them all; PBKDF2 only makes each try cost. Locally, a pattern an answer is
accepted by counts through every string it matches when those are few
(``patterns``: ``(gradient )?(norm )?clipping`` is 20 strings); partial credit
follows grading's rules (``marking.multiple_score``, ``marking.ordering_score``)
through a check value per right choice and per pair of items in the right
order, which tells no more than trying the answers would, and the number of
right choices; numeric answers are accepted within about twice their
tolerance; and an answer a pattern too wide to list might accept is reported
as "not recognised here" rather than wrong.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gatelab.errors import ConfigError
from gatelab.quiz import patterns, seal
from gatelab.quiz.bank import TEMPLATE_ERRORS, Accepted, Bank, Choice, Question, Templates, Variant
from gatelab.quiz.marking import Mark, missed, multiple_score, normalise, ordering_score, read_answer, text_matches
from gatelab.quiz.variants import order_digest
from gatelab.yamlsource import FAST_SAFE_LOADER

LOCK_NAME = "quiz.lock.yaml"
FORMAT = 2
_HEADER = ("# gatelab locked question bank, format 2: no answers and no feedback in plain text.\n"
           "# For self-study with `grade check`; grades come only from the autograder.\n")
_REGENERATE = "regenerate it with grade release (grade generate in the course)"


def new_salt() -> str:
    """A fresh random salt (kept in the lock, and reused while the lock is regenerated, so output is stable)."""
    return secrets.token_hex(16)


def salt_of(path: Path) -> str | None:
    """The salt of the format-2 lock at ``path``, or None (no lock, an older format, unreadable)."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_SAFE_LOADER)
        return str(document["salt"]) if document.get("format") == FORMAT else None
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        return None


def bucket(value: float, tolerance: tuple[str, float]) -> int | str:
    """A numeric answer's cell on a grid as fine as its tolerance (log-spaced for a relative one)."""
    kind, amount = tolerance
    if amount <= 0:
        return repr(float(value))
    if kind == "abs":
        return round(value / amount)
    if value == 0:
        return "0"
    return f"{'+' if value > 0 else '-'}{round(math.log(abs(value)) / math.log1p(amount))}"


def variant_key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=str)


def digest(salt: str, questions: list[dict[str, Any]]) -> str:
    """What tells an edited lock from the one generated (a checksum, not a secret)."""
    return hmac.new(salt.encode(), json.dumps(questions, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def canonical(question: Question, answer: Any) -> list[str]:
    """The canonical forms a parsed answer may take (several for numeric: neighbouring cells)."""
    kind = question.type
    if kind == "single":
        return [f"choice:{question.choices[answer].text}"]
    if kind == "multiple":
        return ["choices:" + "\x1e".join(sorted(question.choices[i].text for i in answer))]
    if kind == "ordering":
        return ["order:" + "\x1e".join(question.items[i] for i in answer)]
    if kind == "true_false":
        return [f"bool:{str(bool(answer)).lower()}"]
    if kind == "numeric":
        cell = bucket(answer, question.tolerance)
        if isinstance(cell, int):
            return [f"num:{cell + d}" for d in (0, -1, 1)]
        if cell.startswith(("+", "-")):
            return [f"num:{cell[0]}{int(cell[1:]) + d}" for d in (0, -1, 1)]
        return [f"num:{cell}"]
    return [f"text:{normalise(answer)}"]


def _correct_forms(question: Question, templates: Templates, values: dict[str, Any]) -> list[str]:
    kind = question.type
    if kind == "single":
        return [f"choice:{c.text}" for c in question.choices if c.correct]
    if kind == "multiple":
        return ["choices:" + "\x1e".join(sorted(c.text for c in question.choices if c.correct))]
    if kind == "ordering":
        return ["order:" + "\x1e".join(question.items)]
    if kind == "true_false":
        return [f"bool:{str(question.answer).lower()}"]
    if kind == "numeric":
        return [f"num:{bucket(templates.number(question.answer, values), question.tolerance)}"]
    forms = [f"text:{normalise(templates.render(a.text, values))}" for a in question.accepted if not a.regex]
    forms += [f"text:{normalise(a.example)}" for a in question.accepted if a.regex]
    for accepted in (a for a in question.accepted if a.regex):
        forms += [f"text:{text}" for text in _listed(templates.render(accepted.text, values))]
    return list(dict.fromkeys(forms))


def _listed(pattern: str) -> list[str]:
    """The normalised answers a pattern accepts, when they are few enough to list (else none)."""
    return [text for text in dict.fromkeys(normalise(s) for s in patterns.expand(pattern) or [])
            if text_matches(text, pattern, True)]


def _unlisted(question: Question, templates: Templates) -> bool:
    """Whether some accepted pattern, in some variant, matches too many answers to list."""
    return any(patterns.expand(templates.render(a.text, values)) is None
               for values in question.all_values() for a in question.accepted if a.regex)


def _partial_checks(question: Question, salt: str, key: str, iterations: int) -> dict[str, Any]:
    """What a marked local check needs for grading's partial credit: a check value per right choice (and
    their number), or per pair of items in the right order."""
    if question.type == "multiple":
        right = [c.text for c in question.choices if c.correct]
        return {"right_picks": [_derived(salt, question.id, key, f"pick:{text}", iterations).check_value
                                for text in right], "right_count": len(right)}
    if question.type == "ordering":
        items = list(question.items)
        return {"right_pairs": [_derived(salt, question.id, key, f"before:{a}\x1e{b}", iterations).check_value
                                for i, a in enumerate(items) for b in items[i + 1:]]}
    return {}


def _earned(question: Question, templates: Templates, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(canonical answer, the feedback it earns) for every answer that earns its own text."""
    pairs = [(form, templates.render(question.explanation, values))
             for form in _correct_forms(question, templates, values)]
    for choice in (c for c in question.choices if not c.correct):
        form = f"choice:{choice.text}" if question.type == "single" else f"pick:{choice.text}"
        pairs.append((form, templates.render(choice.feedback, values)))
    for wrong in question.wrong:
        if question.type == "numeric":
            form = f"num:{bucket(templates.number(wrong.answer, values), question.tolerance)}"
        elif not wrong.regex:
            form = f"text:{normalise(templates.render(wrong.answer, values))}"
        else:
            text = templates.render(wrong.feedback, values)
            pairs += [(f"text:{listed}", text) for listed in _listed(templates.render(wrong.answer, values))]
            continue
        pairs.append((form, templates.render(wrong.feedback, values)))
    if question.type == "true_false" and question.feedback_wrong:
        pairs.append((f"bool:{str(not question.answer).lower()}", templates.render(question.feedback_wrong, values)))
    return pairs


def _locked_question(question: Question, salt: str, templates: Templates, marked: bool,
                     iterations: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": question.id, "type": question.type, "points": question.points, "tags": list(question.tags),
        "prompt": question.prompt, "hints": list(question.hints), "shuffle": question.shuffle,
        "variables": {name: list(values) for name, values in question.variables},
        "tolerance": list(question.tolerance),
        "regex_accepted": _unlisted(question, templates), "variants": {},
    }
    order = sorted(range(len(question.choices)), key=lambda i: question.choices[i].text) \
        if question.shuffle else list(range(len(question.choices)))
    record["choices"] = [question.choices[i].text for i in order]
    record["items"] = sorted(question.items)
    record["solved_digest"] = order_digest(question.id, list(question.items)) if question.items else ""
    if not marked:
        return record
    for values in question.all_values():
        key = variant_key(values)
        right = [_derived(salt, question.id, key, form, iterations).check_value
                 for form in _correct_forms(question, templates, values)]
        sealed = []
        for form, text in _earned(question, templates, values):
            if text.strip():  # a right answer's keys come from the cache: derived once
                keys = _derived(salt, question.id, key, form, iterations)
                sealed.append({"tag": keys.tag, "box": seal.seal(keys, text)})
        record["variants"][key] = {"right": right, "sealed": sealed,
                                   **_partial_checks(question, salt, key, iterations)}
    return record


def lock_bank(bank: Bank, salt: str, templates: Templates | None = None, *, marked: bool = True,
              iterations: int = seal.ITERATIONS) -> str:
    """The locked bank as YAML text; ``marked=False`` (``local_feedback: unmarked``) ships no checks or feedback.
    Locking the same bank again in one process (generate, then release) derives no key twice (``_derived``)."""
    return _lock_bank(bank, salt, templates or Templates(), marked, iterations)


def _lock_bank(bank: Bank, salt: str, templates: Templates, marked: bool, iterations: int) -> str:
    records = []
    for question in bank.questions:
        try:
            records.append(_locked_question(question, salt, templates, marked, iterations))
        except TEMPLATE_ERRORS as exc:
            raise ConfigError(f"question {question.id!r}: a template fails: {type(exc).__name__}: {exc}",
                              question.where) from None
    document = {"format": FORMAT, "salt": salt, "iterations": iterations,
                "local_feedback": "marked" if marked else "unmarked",
                "digest": digest(salt, records), "questions": records}
    return _HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True)
class LockedBank:
    """The student's copy: questions without answers, and what checks answers against them."""

    bank: Bank
    salt: str
    iterations: int
    marked: bool
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def keys(self, question_id: str, variant: str, form: str) -> seal.Keys:
        return _derived(self.salt, question_id, variant, form, self.iterations)


@lru_cache(maxsize=4096)
def _derived(salt: str, question_id: str, variant: str, form: str, iterations: int) -> seal.Keys:
    """Keys kept per answer, so a check server re-marking unchanged answers pays nothing."""
    return seal.derive(salt, question_id, variant, form, iterations)


def load_locked(path: Path) -> LockedBank:
    """Read a locked bank written by :func:`lock_bank`; an older format or an edited file is a clear error."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"not a locked question bank ({type(exc).__name__}: {exc}); {_REGENERATE}",
                          str(path)) from None
    if not isinstance(document, dict) or document.get("format", 1) != FORMAT:
        found = document.get("format", 1) if isinstance(document, dict) else "unknown"
        raise ConfigError(f"this locked question bank is format {found}, from another gatelab; this one reads "
                          f"format {FORMAT}: {_REGENERATE}", str(path))
    try:
        records = document["questions"]
        if not hmac.compare_digest(digest(str(document["salt"]), records), str(document["digest"])):
            raise ConfigError("the locked question bank was changed after it was generated (its digest does not "
                              f"match): download the release again, or {_REGENERATE}", str(path))
        questions = []
        for record in records:
            questions.append(Question(
                id=record["id"], type=record["type"], prompt=record["prompt"], explanation="",
                where=f"{path}", points=float(record["points"]), tags=tuple(record["tags"]),
                hints=tuple(record["hints"]), shuffle=bool(record["shuffle"]),
                variables=tuple((k, tuple(v)) for k, v in record["variables"].items()),
                choices=tuple(Choice(t) for t in record["choices"]), items=tuple(record["items"]),
                tolerance=(record["tolerance"][0], float(record["tolerance"][1])),
                accepted=(Accepted("", True),) if record["regex_accepted"] else (),
                solved_digest=record["solved_digest"]))
        return LockedBank(Bank(tuple(questions)), str(document["salt"]), int(document["iterations"]),
                          document["local_feedback"] == "marked", {r["id"]: r for r in records})
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ConfigError(f"not a locked question bank ({type(exc).__name__}: {exc}); {_REGENERATE}",
                          str(path)) from None


class LockedMarker:
    """Marks answers against the locked bank (the student's view, for self-study)."""

    def __init__(self, locked: LockedBank, templates: Templates | None = None) -> None:
        self.locked = locked
        self.templates = templates or Templates()

    def mark(self, shown: Variant, raw: Any) -> Mark:
        question = shown.question
        answer, early = read_answer(shown, raw)
        if early:
            return early
        if not self.locked.marked:
            return Mark(0.0, question.points, "answered",
                        "Answered; marked at grading (this quiz is not marked on your machine).")
        key = variant_key(shown.values)
        entry = self.locked.records[question.id]["variants"][key]
        forms = canonical(question, answer)
        if question.type == "multiple":
            forms += [f"pick:{question.choices[i].text}" for i in answer]
        keys = [self.locked.keys(question.id, key, form) for form in forms]
        opened = self._opened(entry, keys)
        if any(k.check_value in entry["right"] for k in keys):
            return Mark(question.points, question.points, "correct",
                        "\n".join(filter(None, ["Correct.", opened and f"Explanation: {opened}"])))
        partial = self._partial(question, key, entry, answer)
        if partial is not None:
            fraction, said = partial
            return Mark(question.points * fraction, question.points, "partial" if fraction else "wrong",
                        "\n".join(filter(None, ["Partly right." if fraction else "Not right.", opened, said,
                                                *self._hints(shown)])))
        return self._not_right(shown, opened)

    def _partial(self, question: Question, key: str, entry: dict[str, Any],
                 answer: Any) -> tuple[float, str] | None:
        """(share of the points, what to say) by grading's rules, for a multiple-select or ordering answer
        whose lock carries partial checks; None otherwise (an older lock: all or nothing)."""
        def right(form: str) -> str:
            return self.locked.keys(question.id, key, form).check_value

        if question.type == "multiple" and "right_picks" in entry:
            hits = sum(right(f"pick:{question.choices[i].text}") in entry["right_picks"] for i in answer)
            count = int(entry["right_count"])
            return multiple_score(hits, len(answer) - hits, count), missed(count, hits)
        if question.type == "ordering" and "right_pairs" in entry:
            order = [question.items[i] for i in answer]
            pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]
            hits = sum(right(f"before:{a}\x1e{b}") in entry["right_pairs"] for a, b in pairs)
            return ordering_score(hits, len(pairs)), "The order is not right."
        return None

    def _hints(self, shown: Variant) -> list[str]:
        return [f"Hint: {self.templates.render(h, shown.values)}" for h in shown.question.hints]

    def _opened(self, entry: dict[str, Any], keys: list[seal.Keys]) -> str:
        texts = []
        for k in keys:
            for box in (b["box"] for b in entry["sealed"] if b["tag"] == k.tag):
                try:
                    texts.append(seal.unseal(k, box))
                except seal.Tampered:
                    raise ConfigError(f"the locked question bank was changed after it was generated ({box[:12]}... "
                                      f"does not authenticate): download the release again, or {_REGENERATE}",
                                      LOCK_NAME) from None
        return "\n".join(dict.fromkeys(texts))

    def _not_right(self, shown: Variant, said: str) -> Mark:
        question = shown.question
        status, head = "wrong", "Not right."
        if question.type == "short_text" and question.accepted:
            status, head = "unknown", ("Not recognised here; an answer the course accepts by pattern may still "
                                       "be right when graded.")
        if question.type in ("multiple", "ordering"):
            said += "\n(Here this is all or nothing; the autograder gives partial credit.)"
        return Mark(0.0, question.points, status, "\n".join(filter(None, [head, said, *self._hints(shown)])))
