"""The locked question bank: the student's copy, with no plaintext correct answers.

Like okpy's locked tests, each correct answer is kept only as a salted
hash of its canonical form (per variant, for parametrized questions), and
the feedback tied to an answer is sealed with a key derived from that
answer, so it opens only when the student gives it. ``grade check`` can then
tell right from wrong locally.

The honest limit: a choice question has few possible answers, so anyone can
hash them all and find the right one (okpy's and nbgrader's locks share
this). The lock is for self-study; grades come only from the autograder,
which marks against the full bank. Locally, multiple-select and ordering
questions are all or nothing, numeric answers are accepted within about
twice their tolerance, and an answer accepted only by a regex is reported
as "not recognised here" rather than wrong.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gatelab.course.yamlsource import FAST_SAFE_LOADER
from gatelab.errors import ConfigError
from gatelab.quiz.bank import TEMPLATE_ERRORS, Accepted, Bank, Choice, Question, Templates, Variant, order_digest
from gatelab.quiz.marking import Mark, normalise, read_answer

LOCK_NAME = "quiz.lock.yaml"
_TAG = b"\x00gatelab"
_HEADER = ("# gatelab locked question bank: no plaintext answers, only salted hashes.\n"
           "# For self-study with `grade check`; grades come only from the autograder.\n")


def salt_for(seed: int, title: str) -> str:
    """A fixed salt per assignment, so ``grade generate`` output is reproducible."""
    return hashlib.sha256(f"gatelab:{seed}:{title}".encode()).hexdigest()[:16]


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


class Lock:
    """Hashes and seals answers for one assignment (one salt)."""

    def __init__(self, salt: str) -> None:
        self.salt = salt

    def material(self, question_id: str, values: dict[str, Any], canonical: str) -> bytes:
        return "\x1f".join([self.salt, question_id, json.dumps(values, sort_keys=True, default=str),
                            canonical]).encode()

    @staticmethod
    def check(material: bytes) -> str:
        return hashlib.sha256(b"check\x00" + material).hexdigest()[:32]

    @staticmethod
    def _stream(material: bytes, size: int) -> bytes:
        blocks = (hashlib.sha256(b"key\x00" + material + n.to_bytes(4, "big")).digest()
                  for n in range(size // 32 + 1))
        return b"".join(blocks)[:size]

    def seal(self, text: str, material: bytes) -> str:
        data = text.encode() + _TAG
        return base64.b64encode(bytes(a ^ b for a, b in zip(data, self._stream(material, len(data))))).decode()

    def open(self, sealed: str, material: bytes) -> str | None:
        """The sealed text if ``material`` is the one it was sealed with, else None."""
        try:
            data = base64.b64decode(sealed.encode())
        except ValueError:
            return None
        plain = bytes(a ^ b for a, b in zip(data, self._stream(material, len(data))))
        if not plain.endswith(_TAG):
            return None
        return plain[: -len(_TAG)].decode("utf-8", errors="replace")


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
    return forms


def _locked_question(question: Question, lock: Lock, templates: Templates) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": question.id, "type": question.type, "points": question.points, "tags": list(question.tags),
        "prompt": question.prompt, "hints": list(question.hints), "shuffle": question.shuffle,
        "variables": {name: list(values) for name, values in question.variables},
        "feedback_wrong": question.feedback_wrong, "tolerance": list(question.tolerance),
        "regex_accepted": any(a.regex for a in question.accepted), "variants": {},
    }
    order = sorted(range(len(question.choices)), key=lambda i: question.choices[i].text) \
        if question.shuffle else list(range(len(question.choices)))
    record["choices"] = [question.choices[i].text for i in order]
    record["items"] = sorted(question.items)
    record["solved_digest"] = order_digest(question.id, list(question.items)) if question.items else ""
    for values in question.all_values():
        key = json.dumps(values, sort_keys=True, default=str)
        entry: dict[str, Any] = {"checks": [], "sealed": []}
        for form in _correct_forms(question, templates, values):
            material = lock.material(question.id, values, form)
            entry["checks"].append(lock.check(material))
            entry["sealed"].append(lock.seal(templates.render(question.explanation, values), material))
        for choice in question.choices:
            if not choice.correct:
                form = f"choice:{choice.text}" if question.type == "single" else f"pick:{choice.text}"
                entry["sealed"].append(lock.seal(templates.render(choice.feedback, values),
                                                 lock.material(question.id, values, form)))
        for wrong in question.wrong:
            if question.type == "numeric":
                form = f"num:{bucket(templates.number(wrong.answer, values), question.tolerance)}"
            elif not wrong.regex:
                form = f"text:{normalise(templates.render(wrong.answer, values))}"
            else:
                continue
            entry["sealed"].append(lock.seal(templates.render(wrong.feedback, values),
                                             lock.material(question.id, values, form)))
        record["variants"][key] = entry
    return record


def lock_bank(bank: Bank, salt: str, templates: Templates | None = None) -> str:
    """The locked bank as YAML text."""
    templates = templates or Templates()
    lock = Lock(salt)
    records = []
    for question in bank.questions:
        try:
            records.append(_locked_question(question, lock, templates))
        except TEMPLATE_ERRORS as exc:
            raise ConfigError(f"question {question.id!r}: a template fails: {type(exc).__name__}: {exc}",
                              question.where) from None
    document = {"salt": salt, "questions": records}
    return _HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True)
class LockedBank:
    """The student's copy: questions without answers, and the locks to check answers against."""

    bank: Bank
    lock: Lock
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_locked(path: Path) -> LockedBank:
    """Read a locked bank written by :func:`lock_bank`."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_SAFE_LOADER)
        questions = []
        for record in document["questions"]:
            questions.append(Question(
                id=record["id"], type=record["type"], prompt=record["prompt"], explanation="",
                where=f"{path}", points=float(record["points"]), tags=tuple(record["tags"]),
                hints=tuple(record["hints"]), shuffle=bool(record["shuffle"]),
                variables=tuple((k, tuple(v)) for k, v in record["variables"].items()),
                choices=tuple(Choice(t) for t in record["choices"]), items=tuple(record["items"]),
                tolerance=(record["tolerance"][0], float(record["tolerance"][1])),
                accepted=(Accepted("", True),) if record["regex_accepted"] else (),
                feedback_wrong=record["feedback_wrong"], solved_digest=record["solved_digest"]))
        return LockedBank(Bank(tuple(questions)), Lock(str(document["salt"])),
                          {r["id"]: r for r in document["questions"]})
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"not a locked question bank ({type(exc).__name__}: {exc}); "
                          "regenerate it with grade generate", str(path)) from None


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
        lock = self.locked.lock
        entry = self.locked.records[question.id]["variants"][json.dumps(shown.values, sort_keys=True, default=str)]
        materials = [lock.material(question.id, shown.values, form)
                     for form in canonical(question, answer)]
        if question.type == "multiple":
            materials += [lock.material(question.id, shown.values, f"pick:{question.choices[i].text}")
                          for i in answer]
        if any(lock.check(m) in entry["checks"] for m in materials):
            explanation = self._opened(entry, materials)
            return Mark(question.points, question.points, "correct",
                        "\n".join(filter(None, ["Correct.", explanation and f"Explanation: {explanation}"])))
        return self._not_right(shown, entry, materials)

    def _opened(self, entry: dict[str, Any], materials: list[bytes]) -> str:
        texts = [t for sealed in entry["sealed"] for m in materials if (t := self.locked.lock.open(sealed, m))]
        return "\n".join(dict.fromkeys(texts))

    def _not_right(self, shown: Variant, entry: dict[str, Any], materials: list[bytes]) -> Mark:
        question = shown.question
        said = self._opened(entry, materials) or self.templates.render(question.feedback_wrong, shown.values)
        status, head = "wrong", "Not right."
        if question.type == "short_text" and question.accepted:
            status, head = "unknown", ("Not recognised here; an answer the course accepts by pattern may still "
                                       "be right when graded.")
        if question.type in ("multiple", "ordering"):
            said += "\n(Here this is all or nothing; the autograder gives partial credit.)"
        hints = [f"Hint: {self.templates.render(h, shown.values)}" for h in question.hints]
        return Mark(0.0, question.points, status, "\n".join(filter(None, [head, said, *hints])))
