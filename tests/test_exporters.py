"""Exporters: Gradescope results.json checked against a JSON Schema of its published spec."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import COURSE
from gatelab import grading
from gatelab.report.exporters import gradescope
from gatelab.report.exporters import json as json_exporter
from gatelab.report.results import Results, Status, TestResult

ROOT = Path(__file__).resolve().parent.parent
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
# Gradescope autograder specification, "Output Format": results.json.
SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": FORMAT, "test_output_format": FORMAT, "test_name_format": FORMAT,
        "visibility": VISIBILITY, "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"}, "name_format": FORMAT, "number": {"type": "string"},
                "output": {"type": "string"}, "output_format": FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY, "extra_data": {"type": "object"},
            },
            "additionalProperties": False,
        }},
        "leaderboard": {"type": "array"},
    },
    "additionalProperties": False,
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
}


@pytest.fixture(scope="module")
def stub_results(assignment) -> Results:
    return grading.grade(assignment, COURSE / "exercises")


def test_gradescope_document_follows_the_spec(stub_results):
    """results.json for a real run validates against the spec, and survives a JSON round trip."""
    document = json.loads(json.dumps(gradescope.render(stub_results)))
    jsonschema.validate(document, SCHEMA)
    assert document["score"] == 0
    assert len(document["tests"]) == len(stub_results.tests)
    assert {t["visibility"] for t in document["tests"]} <= {"visible", "hidden"}
    assert all(t["name"].split(":")[0] in t["tags"] for t in document["tests"])


def test_gradescope_failure_document_follows_the_spec():
    """A grading failure still yields a valid results.json, its reason in a hidden test."""
    document = gradescope.failure("grader/config.yaml:3: broken")
    jsonschema.validate(document, SCHEMA)
    assert document["score"] == 0
    assert document["tests"][1]["visibility"] == "hidden" and "broken" in document["tests"][1]["output"]


def test_student_output_reaches_the_feedback_of_a_failed_test():
    """What the student printed is appended to the failing test's output."""
    results = Results("t", "s", [TestResult("lstm.forget_gate: small", "lstm.forget_gate", 0, 1, "visible",
                                            Status.FAILED, "f is wrong", "debug print")])
    test = gradescope.render(results)["tests"][0]
    assert "f is wrong" in test["output"] and "debug print" in test["output"]


def test_json_export_holds_every_field(stub_results):
    """gatelab's own JSON carries totals and every test."""
    document = json.loads(json.dumps(json_exporter.render(stub_results)))
    assert document["max_score"] == stub_results.max_score
    assert document["tests"][0].keys() >= {"name", "function", "score", "max_score", "feedback", "visibility"}


def test_a_broken_released_question_keeps_the_maximum_and_tells_only_the_instructor(make_assignment, tmp_path):
    """A question file that breaks after release: every released question still counts at its points (the
    broken ones as grader errors), the CLI exits 5, and file names and paths reach only the hidden notes."""
    from click.testing import CliRunner

    from gatelab.cli import main
    from gatelab.course import config

    root = make_assignment()
    full = grading.grade(config.load(root), COURSE / "solutions")
    (root / "grader" / "quiz" / "lstm.yaml").write_text("- id: [broken\n")
    output = tmp_path / "results.json"
    run = CliRunner().invoke(main, ["autograde", "--submission", str(COURSE / "solutions"), "--assignment", str(root),
                                    "--output", str(output)])
    assert run.exit_code == 5, run.output
    document = json.loads(output.read_text())
    jsonschema.validate(document, SCHEMA)
    assert sum(t["max_score"] for t in document["tests"]) == full.max_score
    broken = [t for t in document["tests"] if t["score"] == 0 and t["max_score"] > 0]
    assert broken and all(t["name"].startswith("quiz.lstm-") for t in broken)
    visible = document["output"] + "".join(t["output"] for t in document["tests"] if t["visibility"] != "hidden")
    assert "lstm.yaml" not in visible and str(root) not in visible
    (notes,) = [t for t in document["tests"] if t["name"] == gradescope.INSTRUCTOR_NOTES]
    assert notes["visibility"] == "hidden" and notes["max_score"] == 0 and "lstm.yaml:2" in notes["output"]


def test_answers_file_problems_name_the_file_not_the_server_path(assignment, tmp_path):
    """A student's broken answers.yaml is reported as answers.yaml:line, never with the grader's path."""
    (tmp_path / "answers.yaml").write_text("student: ada\nlstm-gates: [\n")
    results = grading.grade(assignment, tmp_path, grading.Request(target="quiz"))
    assert results.notices and all(n.startswith("answers.yaml") for n in results.notices), results.notices
    assert str(tmp_path) not in json.dumps(gradescope.render(results))


@pytest.mark.parametrize("marker", ["`", "~"])
def test_a_fence_holds_any_text(marker):
    """fenced() gives one CommonMark code block holding the text as it is, whatever runs of backticks or
    tildes it has, at a line's start or indented, with any line ending (read by a real CommonMark parser)."""
    markdown_it = pytest.importorskip("markdown_it")
    from gatelab.report.fences import fenced

    texts = ["", "plain", "```", "````\n# heading", "a\n   ``````````\n<b>x</b>\n", "~~~\n~~~~~~~\nx",
             "`" * 12 + "\r" + "~" * 12 + "\r\n    " + "`" * 3, "x ``` y ```` z\n\n\n", "\t```\n  ~~~~  "]
    for text in texts:
        tokens = markdown_it.MarkdownIt("commonmark").parse(fenced(text, marker) + "\n\n# after\n")
        assert [t.type for t in tokens][:2] == ["fence", "heading_open"], (text, tokens)
        body = text.replace("\r\n", "\n").replace("\r", "\n")
        assert tokens[0].content == (body if not body or body.endswith("\n") else body + "\n"), text


def test_every_exporter_writes_utf8_for_lone_surrogates_from_a_worker(assignment, tmp_path):
    """A submission whose exception message, returned string and dict key hold lone surrogates: JSON,
    Gradescope, GitHub, JUnit XML, Markdown, terminal, the HTML feedback page and grades.csv all encode as
    strict UTF-8 and parse with their real parsers; the surrogates show as U+FFFD."""
    import yaml
    from test_hostile_suite import HOSTILE, build, written_in_utf8
    expect = yaml.safe_load((HOSTILE / "lone_surrogates" / "expect.yaml").read_text())
    results = grading.grade(assignment, build("lone_surrogates", expect, tmp_path / "s"),
                            grading.Request(include_hidden=False))
    written_in_utf8(results)
    assert any("cannot differentiate \ufffd here \ufffd" in t.feedback for t in results.tests)
