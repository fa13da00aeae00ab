"""The `grade` command: wiring, output a student reads, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from conftest import COURSE
from gatelab.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(main, ["--help"] if not args else list(args), catch_exceptions=False)


def test_check_on_stubs_reads_well_and_exits_0():
    """`grade check` on the shipped stubs completes, shows hints, totals and the hidden-test line."""
    result = run("check", "--assignment", str(COURSE))
    assert result.exit_code == 0, result.output
    assert "lstm.forget_gate is not implemented yet: stack h_prev above x_t" in result.output
    assert "Score: 0/" in result.output
    assert "hidden tests" in result.output and "run at grading" in result.output
    assert "\x1b[" not in result.output  # no colour codes when not a terminal
    assert "Traceback" not in result.output


def test_check_strict_exits_1_when_not_full_marks():
    """`--strict` turns 'not full marks' into exit code 1 for CI."""
    assert run("check", "--strict", "--assignment", str(COURSE)).exit_code == 1
    assert run("check", "--strict", "--submission", str(COURSE / "solutions"),
               "--assignment", str(COURSE)).exit_code == 0


def test_check_target_function():
    """A function target prints only that function."""
    result = run("check", "lstm.forget_gate", "--submission", str(COURSE / "solutions"), "--assignment", str(COURSE))
    assert result.exit_code == 0
    assert "forget_gate" in result.output and "input_gate" not in result.output


def test_unknown_target_is_usage_error_with_suggestion():
    """A misspelt target exits 2 with a 'did you mean'."""
    result = run("check", "lstm.forgt_gate", "--assignment", str(COURSE))
    assert result.exit_code == 2
    assert "Did you mean 'lstm.forget_gate'" in result.output


def test_broken_config_exits_3_with_file_and_line(make_assignment):
    """A broken grader/config.yaml exits 3 and cites file:line."""
    root = make_assignment(text="title: x\ncases: [\n")
    result = run("check", "--assignment", str(root))
    assert result.exit_code == 3
    assert "config.yaml:" in result.output


def test_no_assignment_found_is_usage_error(tmp_path, monkeypatch):
    """Outside an assignment, `grade check` says how to point at one."""
    monkeypatch.chdir(tmp_path)
    result = run("check")
    assert result.exit_code == 2
    assert "--assignment" in result.output


def test_autograde_gradescope_reference_and_stubs(tmp_path):
    """`grade autograde` writes Gradescope JSON: full marks for the reference, 0 for the stubs."""
    for folder, expected_full in (("solutions", True), ("exercises", False)):
        out = tmp_path / f"{folder}.json"
        result = run("autograde", "--submission", str(COURSE / folder), "--format", "gradescope",
                     "--output", str(out), "--assignment", str(COURSE))
        assert result.exit_code == 0, result.output
        data = json.loads(out.read_text())
        total = sum(t["max_score"] for t in data["tests"])
        assert data["score"] == (total if expected_full else 0)


def test_autograde_failure_still_writes_valid_json(tmp_path):
    """When grading cannot start, the results file still exists and says why."""
    out = tmp_path / "results.json"
    result = run("autograde", "--submission", str(tmp_path / "missing"), "--output", str(out),
                 "--assignment", str(COURSE))
    assert result.exit_code == 2
    data = json.loads(out.read_text())
    assert data["score"] == 0 and "does not exist" in data["tests"][1]["output"]


def test_generate_check_is_in_sync():
    """The shipped exercises are exactly what `grade generate` makes from the solutions."""
    result = run("generate", "--check", "--assignment", str(COURSE))
    assert result.exit_code == 0, result.output


def test_help_documents_exit_codes():
    """`grade --help` lists the exit codes."""
    result = run("--help")
    assert "Exit codes" in result.output and "grader itself failed" in result.output


def test_python_dash_m_runs_the_cli():
    """`python -m gatelab` is the same command as `grade`."""
    done = subprocess.run([sys.executable, "-m", "gatelab", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "gatelab" in done.stdout


def test_the_student_guides_transcripts_are_what_grade_check_prints(tmp_path):
    """The student guide's `grade check lstm.forget_gate` transcript (a forget gate with tanh) and its passing
    lstm_cell_forward line (docs/student.md, once the README's) are what the command prints, word for word."""
    from conftest import write_submission

    readme = (ROOT / "docs" / "student.md").read_text()
    folder = write_submission(tmp_path, {"lstm": ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                                  'return np.tanh(params["Wf"] @ concat + params["bf"])')})
    blocks, block = [], None
    for line in readme.splitlines():
        if line.strip().startswith("```"):
            blocks, block = (blocks + ["\n".join(block)], None) if block is not None else (blocks, [])
        elif block is not None:
            block.append(line)
    transcript = next(b for b in blocks if "$ grade check lstm.forget_gate" in b)
    words = lambda text: " ".join(text.split())  # noqa: E731 - the guide wraps long lines
    shown = run("check", "lstm.forget_gate", "--submission", str(folder), "--assignment", str(COURSE)).output
    assert words(transcript.split("$ grade check lstm.forget_gate", 1)[1]) in words(shown)
    cell = next(b for b in blocks if "✓ lstm_cell_forward" in b)
    assert words(cell) in words(run("check", "lstm", "--submission", str(folder), "--assignment", str(COURSE)).output)
