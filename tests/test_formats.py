"""Every result format carries the same facts, and each is read back by what reads it in the wild."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import junitparser
import pytest
from click.testing import CliRunner

from conftest import COURSE, write_submission
from gatelab import grading
from gatelab.cli import main
from gatelab.grading.submission import locate, read_metadata
from gatelab.report.exporters import github, junit, markdown

METADATA = {"id": 1, "created_at": "2026-11-30T10:00:00+00:00",
            "assignment": {"due_date": "2026-11-29T23:00:00+00:00", "title": "RNN"},
            "users": [{"email": "Ada@Example.com", "id": 4242, "name": "Ada"}]}


@pytest.fixture(scope="module")
def tanh_gate_results(assignment, tmp_path_factory):
    tanh_gate = ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                 'return np.tanh(params["Wf"] @ concat + params["bf"])')
    folder = write_submission(tmp_path_factory.mktemp("tanh"), {"lstm": tanh_gate})
    return grading.grade(assignment, folder, grading.Request(student="ada", quiz="none"))


def test_junit_is_read_by_a_junit_parser_with_points_in_names(tanh_gate_results, tmp_path):
    """junitparser reads every test; failures carry the feedback; points sit in each name and in system-out."""
    path = tmp_path / "report.xml"
    path.write_text(junit.render(tanh_gate_results))
    suites = list(junitparser.JUnitXml.fromfile(str(path)))
    cases = [case for suite in suites for case in suite]
    assert len(cases) == len(tanh_gate_results.tests)
    failing = [c for c in cases if c.result]
    assert failing and all("lstm.forget_gate" in c.classname for c in failing)
    first = next(c for c in failing if "small batch" in c.name)
    assert first.name.endswith("[0/1]") and "known mistake lstm-forget-gate-tanh" in first.result[0].text
    assert "mistakes: lstm-forget-gate-tanh" in first.system_out
    properties = {p.name: p.value for p in suites[0].properties()}
    assert properties["student"] == "ada" and properties["assignment"] == tanh_gate_results.checksum


def test_junit_survives_what_a_student_prints(assignment, tmp_path):
    """Control characters a student prints cannot break the XML."""
    folder = write_submission(tmp_path / "s", {"activations": ("    return 1.0 - np.tanh(z) ** 2\n",
                                                               "    print('\\x00\\x07\\x1b[31m bell')\n"
                                                               "    return 1.0 - np.tanh(z) ** 2\n")})
    results = grading.grade(assignment, folder, grading.Request(target="activations.tanh_derivative", quiz="none"))
    path = tmp_path / "report.xml"
    path.write_text(junit.render(results))
    assert len(list(next(iter(junitparser.JUnitXml.fromfile(str(path)))))) == len(results.tests)


def test_github_result_is_what_the_classroom_reporter_reads(tanh_gate_results, tmp_path, monkeypatch):
    """`--format github` writes the result and the base64 step output; decoded, its scores add up."""
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    folder = write_submission(tmp_path / "s", {})
    result = CliRunner().invoke(main, ["autograde", "--format", "github", "--assignment", str(COURSE),
                                       "--submission", str(folder), "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    (line,) = output.read_text().splitlines()
    assert line.startswith("result=")
    payload = json.loads(base64.b64decode(line.removeprefix("result=")))
    document = json.loads((tmp_path / "r.json").read_text())
    assert payload == github.reporter(document)  # what the reporter reads of the whole document
    assert payload["version"] == 1 and payload["status"] in ("pass", "fail")
    assert {"name", "status", "score", "message"} <= set(document["tests"][0])
    assert [(t["name"], t["score"]) for t in payload["tests"]] == [(t["name"], t["score"]) for t in document["tests"]]
    code = [t for t in document["tests"] if not t["name"].startswith("quiz.")]
    assert sum(t["score"] for t in code) == sum(t["max_score"] for t in code)
    assert github.render(tanh_gate_results)["status"] == "fail"


def test_markdown_summary_names_the_score_and_the_mistake(tanh_gate_results):
    """The job summary has the score line, a row per function and the failing feedback."""
    text = markdown.render(tanh_gate_results)
    score = f"{tanh_gate_results.score:g}/{tanh_gate_results.max_score:g}"
    assert text.startswith(f"# {tanh_gate_results.title}: {score}")
    assert "| ❌ `lstm.forget_gate` |" in text and "known mistake lstm-forget-gate-tanh" in text


def test_every_format_carries_the_same_facts(tanh_gate_results):
    """Student id, gatelab version and assignment checksum, and per test the mistakes named."""
    from gatelab.report.exporters import gradescope

    document = gradescope.render(tanh_gate_results)
    assert document["extra_data"]["student"] == "ada" and document["extra_data"]["assignment"]
    named = [t["extra_data"]["mistakes"] for t in document["tests"] if t["extra_data"]["mistakes"]]
    assert named and all(m == ["lstm-forget-gate-tanh"] for m in named)
    assert github.render(tanh_gate_results)["extra_data"] == document["extra_data"]
    assert document["extra_data"]["assignment"] in junit.render(tanh_gate_results)
    assert document["extra_data"]["assignment"] in markdown.render(tanh_gate_results)


def test_the_lms_student_id_picks_the_quiz_variants(tmp_path):
    """With submission_metadata.json, the account's email (which the student knows, and can give grade quiz
    --student before submitting) picks the variants, whatever `student:` answers.yaml says; the feedback names
    it and the command that shows its numbers; a late submission says so."""
    (tmp_path / "meta.json").write_text(json.dumps(METADATA))
    context = read_metadata(tmp_path / "meta.json")
    assert context.student == "ada@example.com" and context.notices and "after the due date" in context.notices[0]
    folder = write_submission(tmp_path / "s", {})
    (folder / "answers.yaml").write_text("student: someone-else\n")
    out = tmp_path / "results.json"
    result = CliRunner().invoke(main, ["autograde", "--assignment", str(COURSE), "--submission", str(folder),
                                       "--metadata", str(tmp_path / "meta.json"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["extra_data"]["student"] == "ada@example.com" and "after the due date" in document["output"]
    assert ("Your quiz's numbers are those of student id 'ada@example.com': grade quiz --student ada@example.com "
            "shows them") in document["output"]


def test_a_group_gets_one_id_and_a_user_without_email_their_number(tmp_path):
    """A group's members, sorted and joined by +; a member without an email is known by the Gradescope id."""
    group = {**METADATA, "users": [{"email": "zoe@example.com", "id": 7}, {"email": "", "id": 4242},
                                   {"email": "Ada@Example.com", "id": 9}]}
    (tmp_path / "meta.json").write_text(json.dumps(group))
    assert read_metadata(tmp_path / "meta.json").student == "4242+ada@example.com+zoe@example.com"


def test_broken_metadata_is_an_instructor_note_not_a_stop(tmp_path):
    """Unreadable metadata: graded anyway, the id from answers.yaml, a note for the instructor (exit 5)."""
    (tmp_path / "meta.json").write_text("{not json")
    folder = write_submission(tmp_path / "s", {})
    out = tmp_path / "results.json"
    result = CliRunner().invoke(main, ["autograde", "--assignment", str(COURSE), "--submission", str(folder),
                                       "--metadata", str(tmp_path / "meta.json"), "--output", str(out)])
    assert result.exit_code == 5 and "cannot read the submission metadata" in result.output
    assert json.loads(out.read_text())["score"] > 0


def test_a_submission_zipped_inside_a_folder_is_graded_from_it(tmp_path):
    """Files one or two folders down are found, with a notice to the student."""
    inner = write_submission(tmp_path / "upload" / "my-work" / "rnn-hw", {})
    folder, notices = locate(tmp_path / "upload")
    assert folder == inner.resolve() and len(notices) == 2 and "my-work/" in notices[0]


def test_quiz_feedback_in_an_lms_is_the_verdict_now_and_the_rest_later(assignment, tmp_path):
    """By default a student sees right or wrong at once; explanations and answers come after the due date, in a
    separate 0-point test, so one submission cannot read out the key."""
    results = grading.grade(assignment, COURSE / "solutions", grading.Request(target="quiz", for_lms=True))
    right = next(t for t in results.tests if t.name == "quiz.lstm-forget-gate-role")
    later = next(t for t in results.tests if t.name == "quiz.lstm-forget-gate-role: feedback")
    assert right.feedback.startswith("Correct.") and "Explanation" not in right.feedback
    assert later.visibility == "after_due_date" and later.max_score == 0 and "Explanation" in later.feedback
    assert results.score == sum(t.max_score for t in results.tests)


def test_the_quiz_setting_can_show_everything_at_once(make_assignment):
    """`quiz: {feedback: full}` shows the whole feedback at once, in one test per question."""
    from gatelab.course import config

    spec = config.load(make_assignment(quiz={"feedback": "full"}))
    results = grading.grade(spec, Path(COURSE / "solutions"), grading.Request(target="quiz", for_lms=True))
    assert not [t for t in results.tests if t.name.endswith(": feedback")]
    assert "Explanation" in next(t for t in results.tests if t.name == "quiz.lstm-forget-gate-role").feedback


@pytest.mark.parametrize(("submitted", "due", "late"), [
    ("2018-07-01T14:22:32.365935-07:00", "2018-07-01T23:00:00-07:00", False),  # Gradescope's documented form
    ("2026-12-02T10:00:00Z", "2026-12-01T23:59:59Z", True),  # UTC written with a Z
    ("2026-12-01T23:59:59.5Z", "2026-12-01T23:59:59.25+00:00", True),  # fractions of any length
    ("2026-12-01T10:00:00.123-01:00", "2026-12-01T11:00:00.1234567+00:00", False),
    ("2026-12-02T10:00:00", "2026-12-01T10:00:00+00:00", False),  # naive against aware: not judged late
])
def test_late_is_read_alike_on_every_supported_python(tmp_path, submitted, due, late):
    """Python 3.10 (Ubuntu 22.04's) reads ISO times more narrowly than 3.11: the same metadata gives the same
    late notice on both."""
    (tmp_path / "meta.json").write_text(json.dumps({**METADATA, "created_at": submitted,
                                                    "assignment": {"due_date": due}}))
    notices = read_metadata(tmp_path / "meta.json").notices
    assert bool(notices) is late and all("after the due date" in notice for notice in notices)
