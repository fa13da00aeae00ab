"""Results as a report for a terminal: per-function points, feedback, totals."""
from __future__ import annotations

import re
import sys
from typing import Any

import click

from gatelab.report import console
from gatelab.report.render import Renderer
from gatelab.report.results import Cause, Kind, Results, TestResult


def function_rows(results: Results, verbose: bool, unchanged: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """One row per graded function (and one for the quiz questions not answered or not readable): its points,
    the failing tests to show, the rest named in a line; shared by the terminal and the notebook report. The
    questions ``unchanged`` since the last check show no feedback (unless ``verbose``): the right ones share a
    row, the others keep theirs, without the text already read."""
    rows = []
    quiet = set() if verbose else unchanged
    same_right = [t for t in results.tests if t.name in quiet and t.passed and t.mark == "correct"]
    unanswered = [t for t in results.tests if t.kind is Kind.QUESTION and t.mark == "unanswered"]
    unreadable = [t for t in results.tests if t.kind is Kind.QUESTION and t.mark == "unreadable"]
    answered = [t for t in results.tests if t.kind is Kind.QUESTION and t.mark == "answered"]  # marked at grading
    for function, tests in results.by_function().items():
        if tests[0] in unanswered or tests[0] in unreadable or tests[0] in answered or tests[0] in same_right:
            continue
        failing = [t for t in tests if not t.passed]
        judged = [t for t in failing if t.judged] or failing
        shown: list[TestResult] = judged if verbose else judged[:1]
        unrun = _did_not_run(judged)
        if failing and failing[0].name in quiet:
            shown = []
        rows.append({
            "module": function.split(".")[0], "name": function.split(".", 1)[-1], "qualname": function,
            "score": sum(t.score for t in tests), "max_score": sum(t.max_score for t in tests),
            "passed": not failing, "shown": shown,
            "also": [] if verbose or unrun else [_heading(t) for t in judged[1:]],
            "unjudged": [] if unrun else [_heading(t) for t in failing if t not in judged],
            "same_feedback": len({t.feedback for t in judged}) == 1,
            "note": "As at your last check (grade check --verbose shows its feedback)." if failing and not shown
            else "",
            "printed": "" if failing else next((t.output for t in tests if t.output), ""),
            "remark": "" if failing else next((t.feedback for t in tests if t.feedback), ""),
        })
    if same_right:
        rows.append(_quiz_row(f"{len(same_right)} right, as at your last check", True,
                              sum(t.score for t in same_right), sum(t.max_score for t in same_right),
                              remark="grade check --verbose shows their explanations."))
    if unanswered:
        rows.append(_quiz_row(f"{len(unanswered)} not answered yet", False, 0.0,
                              sum(t.max_score for t in unanswered),
                              note="Run grade quiz to answer them (it saves each answer to answers.yaml as you go)."))
    if answered:  # quiz.local_feedback: unmarked: one line, its mark neither a tick nor a cross
        rows.append(_quiz_row(f"{len(answered)} answered, marked at grading", True, 0.0, 0.0,
                              remark=answered[0].feedback, pending=True))
    if unreadable:  # one line for the file, not one per question
        rows.append(_quiz_row(f"{len(unreadable)} questions: answers could not be read", False, 0.0,
                              sum(t.max_score for t in unreadable), note=unreadable[0].feedback))
    return rows


def _quiz_row(name: str, passed: bool, score: float, max_score: float, *, note: str = "", remark: str = "",
              pending: bool = False) -> dict[str, Any]:
    """One row standing for several questions (not answered, unreadable, marked at grading, unchanged)."""
    row = {"module": "quiz", "name": name, "qualname": "quiz", "score": score, "max_score": max_score,
           "passed": passed, "shown": [], "also": [], "unjudged": [], "same_feedback": True, "printed": "",
           "remark": remark, "note": note}
    return {**row, "pending": True} if pending else row


def _did_not_run(judged: list[TestResult]) -> bool:
    """Whether the function ran on none of its cases for one cause (its file did not import, it is missing or
    still the stub): the one message says it all, so its other cases and aspects go unlisted."""
    return bool(judged) and all(t.cause is not Cause.NONE and t.cause is judged[0].cause for t in judged)


def _heading(test: TestResult) -> str:
    return test.name.split(": ", 1)[-1]


def render(results: Results, renderer: Renderer, *, verbose: bool = False,
           unchanged: frozenset[str] = frozenset()) -> str:
    """The report ``grade check`` prints (with ANSI styles; click strips them off a tty); what a submission
    put in it (printed text, exception messages, file names) has its control characters spelt out."""
    text = renderer.terminal(
        "terminal.j2", style=click.style, results=results, rows=function_rows(results, verbose, unchanged),
        marks=console.marks(sys.stdout), verbose=verbose, number=number)
    return re.sub(r"\n{3,}", "\n\n", text)  # one blank line between blocks, however the rows end


def number(value: float) -> str:
    """Points as people write them: 2, 0.5, 0.33."""
    return f"{round(value, 2):g}"
