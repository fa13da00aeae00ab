"""``answers.yaml``: the student's quiz answers (question id -> answer), read and updated safely.

Reading never raises for what the student wrote: a YAML error, an unknown
id or a value of the wrong form becomes a message with file and line, and
the rest of the file (and the code exercises) is still graded. Writing
(``grade quiz``) edits the file line by line, so earlier answers and the
student's comments are kept.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from gatelab.errors import did_you_mean
from gatelab.textfiles import NotText, read_text

ANSWERS_NAME = "answers.yaml"
STUDENT_KEY = "student"
MAX_BYTES = 256 * 1024  # far more than any honest answers file
MAX_NESTING = 20  # lists and mappings inside each other: an answer needs two
_SURROGATE = re.compile("[\ud800-\udfff]")
_HEADER = ("# Your answers to the concept questions: question id -> answer.\n"
           "# `grade quiz` asks them one by one and fills this file in; you may also edit it by hand.\n"
           "# Choice questions take the letter(s) shown to you, e.g. b or [a, c]; "
           "ordering takes the letters in order.\n")


@dataclass
class Answers:
    """What an answers file holds, where each answer is, and what was wrong with it."""

    path: Path
    shown_as: str = ""  # how messages name the file (never a server path); the path by default
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    student: str | None = None
    problems: list[str] = field(default_factory=list)
    unreadable: str = ""  # the problem, when the file exists but no answer in it could be read

    def where(self, question_id: str) -> str:
        return f"{self.shown_as}:{self.lines.get(question_id, 1)}"


def read(path: Path, known_ids: Iterable[str], shown_as: str | None = None) -> Answers:
    """The answers in ``path`` (none if it does not exist), with a message for each problem.

    Messages name the file ``shown_as`` (for example ``answers.yaml``), so a
    student's feedback never shows where the grader keeps it.
    """
    answers = Answers(path, shown_as or str(path))
    if not path.is_file():
        return answers
    path_text = answers.shown_as
    if path.stat().st_size > MAX_BYTES:
        return _unreadable(answers, f"{path_text}: the answers file is over {MAX_BYTES // 1024} KB; "
                                    "no quiz answer was read")
    try:
        text = read_text(path)
        refused = _refused(text)
        if refused is not None:
            return _unreadable(answers, f"{path_text}:{refused[0]}: {refused[1]}; no quiz answer was read")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except NotText as exc:
        return _unreadable(answers, f"{path_text}:{exc.line}: the answers file is {exc}; no quiz answer could "
                                    "be read.")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        return _unreadable(answers, f"{path_text}{line}: the answers file is not valid YAML "
                                    f"({getattr(exc, 'problem', None) or exc}); no quiz answer could be read. "
                                    "Fix that line (or rename the file to start afresh).")
    if root is None:
        return answers
    if not isinstance(root, yaml.MappingNode):
        return _unreadable(answers, f"{path_text}:{root.start_mark.line + 1}: the answers file must map "
                                    "question ids to answers (id: answer), one per line")
    known = set(known_ids)
    constructor = yaml.SafeLoader("")
    for key_node, value_node in root.value:
        key, line = str(key_node.value), key_node.start_mark.line + 1
        try:
            value = constructor.construct_object(value_node, deep=True)
        except yaml.YAMLError as exc:
            answers.problems.append(f"{path_text}:{line}: the answer to {key!r} cannot be read ({exc})")
            continue
        if key == STUDENT_KEY:
            answers.student = str(value)
        elif key not in known:
            answers.problems.append(f"{path_text}:{line}: there is no question {key!r}; its answer is ignored."
                                    f"{did_you_mean(key, known)}")
        elif key in answers.values:
            answers.problems.append(f"{path_text}:{line}: {key!r} is answered twice; the first answer "
                                    f"(line {answers.lines[key]}) counts")
        else:
            answers.values[key] = value
            answers.lines[key] = line
    return answers


def _refused(text: str) -> tuple[int, str] | None:
    """(line, why) for what an answers file may not hold, found in its events before anything is built:
    an alias (a billion laughs), nesting deeper than ``MAX_NESTING``, or a surrogate escape (``"\\ud800"``)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent):
            return line, "YAML aliases (*name) are not allowed in an answers file"
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                return line, f"nesting deeper than {MAX_NESTING} levels is not allowed in an answers file"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent) and _SURROGATE.search(event.value):
            return line, "a surrogate escape (such as \\ud800) is not text; it is not allowed in an answers file"
    return None


def _unreadable(answers: Answers, problem: str) -> Answers:
    """The file exists but none of it can be read: say so once, and mark every question that way."""
    answers.problems.append(problem)
    answers.unreadable = problem
    return answers


def dump_value(value: Any) -> str:
    """One answer as a YAML value that fits on its key's line."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").strip()


def write(path: Path, key: str, value: Any) -> None:
    """Set ``key: value`` in ``path``, keeping every other line (comments included) as it was."""
    lines = read_text(path).splitlines(keepends=True) if path.is_file() else [_HEADER]
    entry = f"{key}: {dump_value(value)}\n"
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    for n, line in enumerate(lines):
        if pattern.match(line):
            end = n + 1
            while end < len(lines) and lines[end].startswith((" ", "\t", "-")) and lines[end].strip():
                end += 1  # the old value's continuation lines
            lines[n:end] = [entry]
            break
    else:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(entry)
    path.write_text("".join(lines), encoding="utf-8")
