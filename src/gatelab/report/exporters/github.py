"""Results as GitHub Classroom's autograding result, the JSON its grading reporter reads.

``render`` gives the whole document (the file ``--output`` writes):
``{version: 1, status, max_score, tests: [{name, status, score, message, ...}]}``.

``reporter`` gives what goes to the reporter
(``classroom-resources/autograding-grading-reporter@v1``), which reads it
base64-encoded from one environment variable, ``GATELAB_RESULTS``: Linux
refuses a single variable longer than 128 KiB (``MAX_ARG_STRLEN``), and the
step would then fail on exactly the submissions with the most to say. The
reporter reads, and so the payload holds, only: the run's ``status`` (``fail``
or ``error`` fails the step) and ``max_score``; per test ``name``, ``status``,
``score`` (Classroom's points are the sum of these), ``line_no`` (0: no
line) and ``message``, which it prints only for a test in status ``error``.
A failing test's feedback goes to the run's job summary instead
(``summary``). The payload is held under ``BUDGET`` whatever the results:
long messages are cut with a pointer to the summary, then dropped, then
tests are merged per function.

The reporter prints names and messages to the job's log, where a line that
starts with ``::`` (or holds ``##[``) is a workflow command: such a message
is wrapped in ``::stop-commands::`` and a token no text can know in advance.
Control characters are spelt out (``visible``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from gatelab.report.console import visible
from gatelab.report.exporters import facts, test_facts, text_of
from gatelab.report.results import Results, Status, TestResult

_STATUS = {Status.PASSED: "pass", Status.FAILED: "fail", Status.ERROR: "error"}
ENV_LIMIT = 128 * 1024  # Linux's MAX_ARG_STRLEN: one "NAME=value" string of the environment, its NUL included
BUDGET = 48 * 1024  # bytes of base64 the reporter's payload stays under: well inside ENV_LIMIT
MESSAGE_CHARS = 1500  # a message longer than this is cut
NAME_CHARS = 200
POINTER = "… (cut: the full feedback is on this run's summary page)"
SUMMARY_LIMIT = 1000 * 1024  # GitHub refuses a job summary over 1 MiB (per step): the summary stays under this
_COMMAND = re.compile(r"^\s*::|##\[", re.M)  # what GitHub's runner takes for a workflow command in a log line


def _test(test: TestResult) -> dict[str, Any]:
    return {"name": test.name, "status": _STATUS[test.status], "score": test.score, "max_score": test.max_score,
            "message": visible(text_of(test)), "test_code": test.function, "filename": "", "line_no": 0,
            "execution_time": "0s", "extra_data": test_facts(test)}


def render(results: Results) -> dict[str, Any]:
    """The result document for ``results``."""
    status = "error" if results.grader_errors else ("pass" if results.full_marks else "fail")
    return {"version": 1, "status": status, "max_score": results.max_score,
            "tests": [_test(t) for t in results.tests], "extra_data": facts(results)}


def failure(message: str) -> dict[str, Any]:
    """A valid result when grading itself could not run: one errored test, no points."""
    return {"version": 1, "status": "error", "max_score": 0,
            "tests": [{"name": "Autograder failed", "status": "error", "score": 0, "message": visible(message)}]}


def encoded(document: dict[str, Any]) -> str:
    """The document as the reporter reads it from a step output: base64 of compact JSON."""
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()


def neutralised(text: str) -> str:
    """``text`` as a log line sequence that starts no workflow command: where it would, it is wrapped in
    ``::stop-commands::TOKEN`` ... ``::TOKEN::``, the token derived from the text (so the text cannot hold it).
    The first line, printed after the reporter's own ``Error: ``, stays outside the wrapping only when it is
    safe."""
    if not _COMMAND.search(text):
        return text
    token = "gatelab-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"(its text follows, with workflow commands off)\n::stop-commands::{token}\n{text}\n::{token}::"


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars].rstrip() + "\n" + POINTER


def _name(name: str) -> str:
    """A test name as the reporter prints it after a mark: no ``##[`` (a command anywhere in a line)."""
    return _cut(visible(name), NAME_CHARS).replace("##[", "## [").replace("\n", " ")


def _slim(test: dict[str, Any], message: str | None) -> dict[str, Any]:
    entry = {"name": _name(test["name"]), "status": test["status"], "score": test["score"], "line_no": 0}
    if message is not None:
        entry["message"] = neutralised(message)
    return entry


def _said(test: dict[str, Any]) -> str:
    """An errored test's message as the log shows it (after the reporter's ``Error: ``): its name, then its
    text, cut."""
    return _cut(f"{_name(test['name'])}: {visible(test.get('message') or 'failed to run')}", MESSAGE_CHARS)


def _base64(raw: int) -> int:
    return 4 * -(-raw // 3)


def _compact(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"))  # ASCII: its length is its size in bytes


def _merged(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One test per function (its score the sum), for results with more tests than the payload can name."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for test in tests:
        groups.setdefault(test.get("test_code") or test["name"].split(":")[0], []).append(test)
    merged = []
    for name, group in groups.items():
        failed = sum(t["status"] != "pass" for t in group)
        status = "pass" if not failed else ("error" if any(t["status"] == "error" for t in group) else "fail")
        merged.append({"name": name, "status": status, "score": sum(t["score"] for t in group),
                       "message": f"{failed} of its {len(group)} tests did not pass. {POINTER}"})
    return merged


def _fitted(head: dict[str, Any], tests: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The payload of ``tests``, errored tests' messages dropped from the last until it fits; None if it
    cannot fit even without them."""
    said = [_slim(t, _said(t)) if t["status"] == "error" else None for t in tests]
    bare = [_slim(t, f"{_name(t['name'])}: {POINTER}") if t["status"] == "error" else _slim(t, None)
            for t in tests]
    entries = [_compact(s if s is not None else b) for s, b in zip(said, bare)]
    raw = len(_compact({**head, "tests": []})) + sum(map(len, entries)) + len(entries)  # a comma each, at most
    for index in reversed(range(len(tests))):  # the last messages give way first
        if _base64(raw) <= BUDGET:
            break
        shorter = _compact(bare[index])
        raw += len(shorter) - len(entries[index])
        entries[index] = shorter
    if _base64(raw) > BUDGET:
        return None
    return {**head, "tests": [json.loads(entry) for entry in entries]}


def reporter(document: dict[str, Any]) -> dict[str, Any]:
    """What the reporter reads of ``document``, its base64 under ``BUDGET`` bytes (see the module's text)."""
    head = {"version": 1, "status": document["status"], "max_score": document["max_score"]}
    payload = _fitted(head, document["tests"]) or _fitted(head, _merged(document["tests"]))
    if payload is not None:
        return payload
    total = sum(t["score"] for t in document["tests"])
    return {**head, "tests": [{"name": "All tests", "status": document["status"], "score": total, "line_no": 0,
                               "message": f"{len(document['tests'])} tests. {POINTER}"}]}


def summary(markdown: str) -> str:
    """The Markdown report as the job summary, cut at a line under ``SUMMARY_LIMIT`` bytes if it is longer (an
    open code block then runs to the end, as CommonMark closes it there)."""
    data = markdown.encode("utf-8")
    if len(data) <= SUMMARY_LIMIT:
        return markdown
    kept = data[:SUMMARY_LIMIT].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    return f"{kept}\n\n… (cut: the report has {len(data) // 1024} KB, past what GitHub shows as a job summary)\n"
