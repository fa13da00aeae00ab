"""Reading the question bank from ``grader/quiz/*.yaml``, every problem reported with file and line: a broken
question stops the command, or, given a list for them, is left out and its problem kept."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gatelab.errors import ConfigError, did_you_mean
from gatelab.quiz.bank import (
    COMMON,
    LETTERS,
    MAX_VARIANTS,
    SPECIFIC,
    TYPES,
    Accepted,
    Bank,
    Choice,
    Question,
    WrongAnswer,
)
from gatelab.yamlsource import YamlSource

ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # a question id: lower-case words joined by hyphens


def _strings(doc: YamlSource, node: yaml.Node | None, what: str) -> tuple[str, ...]:
    return tuple(doc.typed(item, str, what) for item in doc.sequence(node, what))


def _choices(doc: YamlSource, node: yaml.Node | None, qid: str) -> tuple[Choice, ...]:
    choices = []
    for item in doc.sequence(node, f"{qid}: choices"):
        entry = doc.mapping(item, f"{qid}: a choice")
        doc.check_keys(entry, ("text", "correct", "feedback"), f"{qid}: a choice")
        doc.require(entry, ("text",), f"{qid}: a choice", item)
        correct = doc.value(entry["correct"]) if "correct" in entry else False
        if not isinstance(correct, bool):
            raise ConfigError(f"{qid}: correct must be true or false", doc.where(entry["correct"]))
        feedback = doc.typed(entry["feedback"], str, f"{qid}: feedback") if "feedback" in entry else ""
        if not correct and not feedback:
            raise ConfigError(f"{qid}: every wrong choice needs feedback", doc.where(item))
        choices.append(Choice(doc.typed(entry["text"], str, f"{qid}: text"), correct, feedback))
    return tuple(choices)


def _wrong(doc: YamlSource, node: yaml.Node | None, qid: str, key: str) -> tuple[WrongAnswer, ...]:
    wrong = []
    for item in doc.sequence(node, f"{qid}: wrong"):
        entry = doc.mapping(item, f"{qid}: a wrong answer")
        doc.check_keys(entry, (key, "feedback"), f"{qid}: a wrong answer")
        doc.require(entry, (key, "feedback"), f"{qid}: a wrong answer", item)
        value = doc.value(entry[key])
        text = str(value)
        regex = isinstance(value, str) and value.startswith("regex:")
        wrong.append(WrongAnswer(text.removeprefix("regex:").strip() if regex else text,
                                 doc.typed(entry["feedback"], str, f"{qid}: feedback"), regex))
    return tuple(wrong)


def _accepted(doc: YamlSource, node: yaml.Node | None, qid: str) -> tuple[Accepted, ...]:
    accepted = []
    for item in doc.sequence(node, f"{qid}: accepted"):
        if isinstance(item, yaml.ScalarNode):
            accepted.append(Accepted(doc.typed(item, str, f"{qid}: accepted")))
            continue
        entry = doc.mapping(item, f"{qid}: an accepted answer")
        doc.check_keys(entry, ("regex", "example"), f"{qid}: an accepted answer")
        doc.require(entry, ("regex", "example"), f"{qid}: an accepted answer", item)
        accepted.append(Accepted(doc.typed(entry["regex"], str, "regex"), True,
                                 doc.typed(entry["example"], str, "example")))
    return tuple(accepted)


def _variables(doc: YamlSource, node: yaml.Node | None, qid: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    variables = []
    for name, values_node in doc.mapping(node, f"{qid}: variables").items():
        values = doc.value(values_node)
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{qid}: variable {name} must be a non-empty list of values", doc.where(values_node))
        variables.append((name, tuple(values)))
    return tuple(variables)


def _tolerance(doc: YamlSource, node: yaml.Node | None, qid: str) -> tuple[str, float]:
    entry = doc.mapping(node, f"{qid}: tolerance")
    doc.check_keys(entry, ("abs", "rel"), f"{qid}: tolerance")
    if len(entry) != 1:
        raise ConfigError(f"{qid}: tolerance needs exactly one of abs or rel", doc.where(node))
    (kind, value_node), = entry.items()
    value = doc.typed(value_node, float, f"{qid}: tolerance.{kind}")
    if value < 0:
        raise ConfigError(f"{qid}: a tolerance cannot be negative", doc.where(value_node))
    return kind, value


def _question(doc: YamlSource, node: yaml.Node) -> Question:
    entry = doc.mapping(node, "a question")
    qid = doc.typed(entry["id"], str, "id") if "id" in entry else "?"
    if "type" not in entry:
        raise ConfigError(f"question {qid!r} has no type (one of {', '.join(TYPES)})", doc.where(node))
    kind = doc.value(entry["type"])
    if kind not in TYPES:
        raise ConfigError(f"question {qid!r}: unknown type {kind!r}.{did_you_mean(str(kind), TYPES)}",
                          doc.where(entry["type"]))
    doc.check_keys(entry, COMMON + SPECIFIC[kind], f"question {qid!r} ({kind})")
    required = ("id", "prompt", "explanation") + {"single": ("choices",), "multiple": ("choices",),
                                                 "true_false": ("answer",), "numeric": ("answer", "tolerance"),
                                                 "short_text": ("accepted",), "ordering": ("items",)}[kind]
    doc.require(entry, required, f"question {qid!r}", node)
    if qid == "student":
        raise ConfigError("'student' is reserved in answers files; choose another id", doc.where(entry["id"]))
    if not ID.match(qid):
        raise ConfigError(f"question id {qid!r} must be kebab-case (lower-case words joined by -)",
                          doc.where(entry["id"]))
    points = doc.typed(entry["points"], float, f"{qid}: points") if "points" in entry else 1.0
    if points <= 0:
        raise ConfigError(f"{qid}: points must be positive", doc.where(entry["points"]))
    fields: dict[str, Any] = {
        "id": qid, "type": kind, "where": doc.where(node), "points": points,
        "prompt": doc.typed(entry["prompt"], str, f"{qid}: prompt"),
        "explanation": doc.typed(entry["explanation"], str, f"{qid}: explanation"),
        "tags": _strings(doc, entry.get("tags"), f"{qid}: tags"),
        "hints": _strings(doc, entry.get("hints"), f"{qid}: hints"),
        "variables": _variables(doc, entry.get("variables"), qid),
        "feedback_wrong": doc.typed(entry["feedback_wrong"], str, "feedback_wrong")
        if "feedback_wrong" in entry else "",
    }
    if kind in ("single", "multiple"):
        fields["choices"] = _choices(doc, entry["choices"], qid)
        if "shuffle" in entry:
            fields["shuffle"] = bool(doc.value(entry["shuffle"]))
    elif kind == "true_false":
        fields["answer"] = doc.value(entry["answer"])
        if not isinstance(fields["answer"], bool):
            raise ConfigError(f"{qid}: answer must be true or false", doc.where(entry["answer"]))
    elif kind == "numeric":
        fields["answer"] = doc.value(entry["answer"])
        fields["tolerance"] = _tolerance(doc, entry["tolerance"], qid)
        fields["wrong"] = _wrong(doc, entry.get("wrong"), qid, "answer")
    elif kind == "short_text":
        fields["accepted"] = _accepted(doc, entry["accepted"], qid)
        fields["wrong"] = _wrong(doc, entry.get("wrong"), qid, "match")
    elif kind == "ordering":
        fields["items"] = _strings(doc, entry["items"], f"{qid}: items")
    return Question(**fields)


def _check_shape(question: Question) -> str | None:
    """What is structurally wrong with a question that parsed, or None."""
    q = question
    if q.type == "single" and sum(c.correct for c in q.choices) != 1:
        return "a single-choice question needs exactly one correct choice"
    if q.type == "multiple" and not any(c.correct for c in q.choices):
        return "a multiple-select question has no correct choice"
    if q.type in ("single", "multiple") and not 2 <= len(q.choices) <= len(LETTERS):
        return "a choice question needs at least two choices"
    if q.type == "ordering" and len(q.items) < 2:
        return "an ordering question needs at least two items"
    if q.type == "short_text" and not q.accepted:
        return "a short-text question accepts no answer"
    if q.variant_count > MAX_VARIANTS:
        return f"{q.variant_count} variants: at most {MAX_VARIANTS}, so the locked bank can hold them"
    return None


def load(folder: Path, errors: list[str] | None = None) -> Bank:
    """Every ``*.yaml`` under ``folder`` (``grader/quiz``); an empty bank if the folder is absent.

    The first problem raises ConfigError; with an ``errors`` list, every problem
    is appended there instead and the broken questions are left out.
    """
    questions: list[Question] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc = YamlSource(path)
            nodes = doc.sequence(doc.root, "a question file")
        except ConfigError as exc:
            _collect(exc, errors)
            continue
        for node in nodes:
            try:
                question = _question(doc, node)
                if question.id in seen:
                    raise ConfigError(f"duplicate question id {question.id!r} (first at {seen[question.id]})",
                                      question.where)
                problem = _check_shape(question)
                if problem:
                    raise ConfigError(f"question {question.id!r}: {problem}", question.where)
            except ConfigError as exc:
                _collect(exc, errors)
                continue
            seen[question.id] = question.where
            questions.append(question)
    return Bank(tuple(questions))


def _collect(error: ConfigError, errors: list[str] | None) -> None:
    if errors is None:
        raise error
    errors.append(str(error))
