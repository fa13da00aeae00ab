"""Issue 17, point 8: what a worker sends (or a student's answers file holds) costs only that submission's own
points, through `grade autograde` (results written, exit 0) and `grade batch` (grades.csv, the others graded)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_hostile_suite import HOSTILE, build

from conftest import COURSE, write_submission
from gatelab.cli import main

ENTRIES = ["reply_header_bomb", "served_part_broadcast", "lone_surrogates", "answers_nesting_bomb",
           "answers_surrogate_escape"]


@pytest.fixture(scope="module")
def fast_root(tmp_path_factory) -> Path:
    """The real assignment with a 5-second call limit and its own 60-second budget: reply_header_bomb's calls
    (16 MB each, every LSTM composite calling its input_gate) took about 18 s of a 20 s budget on an idle machine,
    so with a shrunken budget the untouched modules' points hung on the machine's load (issue 19: the budget is
    wall-clock), not on what this test is about."""
    root = tmp_path_factory.mktemp("assignment")
    for name in ("grader", "solutions", "exercises"):
        shutil.copytree(COURSE / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    data = yaml.safe_load((root / "grader" / "config.yaml").read_text())
    data["limits"].update(timeout=5, budget=60)
    (root / "grader" / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def _submission(name: str, into: Path) -> tuple[Path, set[str]]:
    """The entry's submission, and the modules it leaves as the reference wrote them."""
    expect = yaml.safe_load((HOSTILE / name / "expect.yaml").read_text())
    touched = set(expect.get("append", {}))
    return build(name, expect, into), {"activations", "rnn", "lstm", "gru", "gradients"} - touched


@pytest.mark.parametrize("name", ENTRIES)
def test_autograde_writes_results_and_keeps_the_other_points(fast_root, tmp_path, name):
    """`grade autograde` exits 0 and writes results.json as strict UTF-8; every function of a module the
    submission left alone keeps its points, and an unreadable answers file scores its questions 0."""
    submission, untouched = _submission(name, tmp_path / "submission")
    out = tmp_path / "results.json"
    result = CliRunner().invoke(main, ["autograde", "--submission", str(submission), "--format", "json",
                                       "--output", str(out), "--assignment", str(fast_root)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_bytes().decode("utf-8"))
    code = [t for t in document["tests"] if t["kind"] != "question"]
    assert code and all(t["score"] == t["max_score"] for t in code if t["function"].split(".")[0] in untouched)
    if name.startswith("answers_"):
        assert all(t["score"] == 0 for t in document["tests"] if t["kind"] == "question")
        assert all(t["score"] == t["max_score"] for t in code)


def test_batch_writes_grades_and_grades_the_others(fast_root, tmp_path):
    """`grade batch` over the five submissions and a correct one writes grades.csv with a row for each, and
    the correct one has full marks for its code (it answers no quiz question)."""
    folder = tmp_path / "submissions"
    for name in ENTRIES:
        _submission(name, folder / name)
    write_submission(folder / "correct", {})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(folder), "--out", str(out), "--jobs", "2",
                                       "--assignment", str(fast_root)])
    assert result.exit_code == 0, result.output
    rows = {r["SIS User ID"]: r for r in csv.DictReader((out / "grades.csv").read_text().splitlines())}
    assert set(ENTRIES) | {"correct"} <= set(rows)
    correct = json.loads((out / "results" / "correct.json").read_text())
    assert all(t["score"] == t["max_score"] for t in correct["tests"] if t["kind"] != "question")
    for name in ENTRIES:
        document = json.loads((out / "results" / f"{name}.json").read_bytes().decode("utf-8"))
        assert document["score"] > 0, name
        (out / "feedback" / f"{name}.html").read_bytes().decode("utf-8")
