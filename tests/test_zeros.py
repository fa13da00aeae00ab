"""Every zero explained (issue 18, point 5): a class with one submission of each kind of zero, graded by
`grade batch`; the class summary (read with html.parser), the terminal and the feedback pages say why."""
from __future__ import annotations

import csv
import html.parser
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import COURSE, fast_course, write_submission
from gatelab.cli import main

KINDS = {  # student -> the reasons the summary must give it (value of reasons.Reason), and what they concern
    "correct": {},
    "syntax": {"import_syntax": ["lstm.py"]},
    "hang": {"import_hang": ["gru.py"]},
    "crash": {"import_crash": ["activations.py"], "unmatched": []},  # not lstm.py, gru.py, ... which import it
    "exits": {"import_raised": ["rnn.py"]},
    "empty": {"empty": []},
    "stub": {"stubs": ["activations.py", "gradients.py", "gru.py", "lstm.py", "rnn.py"]},
    "missing": {"missing_files": ["gradients.py"]},
    "renamed": {"missing_functions": ["gru.gru_forward"]},
    "broken": {"not_graded": None},  # None: the detail is the error, checked apart
}
ZEROS = {"empty", "stub", "broken"}


def make_class(folder: Path) -> None:
    """One submission of each kind: syntax error, endless loop at import, os._exit at import, sys.exit at import,
    an empty folder, the exercises' stubs untouched, a missing file, a renamed function, a broken zip, and a
    correct one."""
    write_submission(folder / "correct", {})
    numpy = "import numpy as np\n"
    write_submission(folder / "syntax", {"lstm": ("def lstm_forward(x, h0, params):",
                                                  "def lstm_forward(x, h0, params)")})
    write_submission(folder / "hang", {"gru": (numpy, numpy + "while True:\n    pass\n")})
    write_submission(folder / "crash", {"activations": (numpy, numpy + "import os\nos._exit(3)\n")})
    write_submission(folder / "exits", {"rnn": (numpy, numpy + "import sys\nsys.exit(2)\n")})
    (folder / "empty").mkdir()
    stub = write_submission(folder / "stub", {})
    for path in stub.glob("*.py"):
        shutil.copy(COURSE / "exercises" / path.name, path)
    (write_submission(folder / "missing", {}) / "gradients.py").unlink()
    write_submission(folder / "renamed", {"gru": ("def gru_forward(", "def gru_forward_v2(")})
    (folder / "broken.zip").write_bytes(b"not a zip at all")


class Summary(html.parser.HTMLParser):
    """The reasons table (reason -> {student: its text}) and the zeros table (student -> [reason]) of
    summary.html, read as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.reasons: dict[str, dict[str, str]] = {}
        self.zeros: dict[str, list[str]] = {}
        self.table = ""
        self.row: dict[str, str | None] = {}
        self.span: list[str] = []  # the data-student of the open <span class="student"> (with its text)
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.table = found.get("id") or ""
        elif tag == "tr":
            self.row = found
            if self.table == "reasons" and found.get("data-reason"):
                self.reasons[str(found["data-reason"])] = {}
            if self.table == "zeros" and found.get("data-student"):
                self.zeros[str(found["data-student"])] = []
        elif tag == "span" and self.table == "reasons" and found.get("data-student"):
            self.span, self.text = [str(found["data-student"])], []
        elif tag == "span" and self.table == "zeros" and found.get("data-reason"):
            self.zeros[str(self.row["data-student"])].append(str(found["data-reason"]))

    def handle_data(self, data: str) -> None:
        if self.span:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.span and self.table == "reasons":
            if self.text and self.span[0] in self.text[0]:  # the student's own span, not the "(0)" inside it
                self.reasons[str(self.row["data-reason"])][self.span[0]] = "".join(self.text)
                self.span = []
        elif tag == "table":
            self.table = ""


@pytest.fixture(scope="module")
def zeros_root(tmp_path_factory) -> Path:
    """The course with a 1 s time limit and an 8 s budget: an endless loop costs seconds, not minutes."""
    return fast_course(tmp_path_factory.mktemp("zeros-course"))


@pytest.fixture(scope="module")
def zeros_class(zeros_root, tmp_path_factory):
    """The class graded through the CLI, with a roster that knows everyone but crash."""
    base = tmp_path_factory.mktemp("zeros")
    make_class(base / "submissions")
    with open(base / "roster.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
        for n, student in enumerate(sorted(set(KINDS) - {"crash"})):
            writer.writerow([f"Student {n}", str(100 + n), f"S{n}", student, "A"])
    out = base / "out"
    result = CliRunner().invoke(main, ["batch", str(base / "submissions"), "--out", str(out), "--jobs", "2",
                                       "--roster", str(base / "roster.csv"), "--allow-unmatched",
                                       "--assignment", str(zeros_root)])
    assert result.exit_code == 0, result.output
    return base, out, result.output


def _summary(out: Path) -> Summary:
    parser = Summary()
    parser.feed((out / "summary.html").read_text(encoding="utf-8"))
    return parser


def test_every_zero_is_explained_in_the_class_summary(zeros_class):
    """Each kind of zero (and of a whole module lost) is its reason, with its file, counted with the students
    under it; the zeros table names every submission that scored 0 or was not graded with its reasons, and the
    page never says that every one was graded."""
    _, out, _ = zeros_class
    page = _summary(out)
    wanted: dict[str, dict[str, list[str] | None]] = {}
    for student, reasons in KINDS.items():
        for reason, details in reasons.items():
            wanted.setdefault(reason, {})[student] = details
    assert set(page.reasons) == set(wanted), page.reasons
    for reason, students in wanted.items():
        assert set(page.reasons[reason]) == set(students), (reason, page.reasons[reason])
        for student, details in students.items():
            shown = page.reasons[reason][student]
            if details:  # these files and no others (a file that only imports the broken one is not named)
                assert shown.strip() in (f"{student}: {', '.join(details)}", f"{student}: {', '.join(details)} (0)"), \
                    (reason, shown)
            elif details == []:
                assert shown.strip() in (student, f"{student} (0)"), (reason, shown)
    assert "broken.zip is not a readable zip file" in page.reasons["not_graded"]["broken"]
    assert page.zeros == {student: list(KINDS[student]) for student in ZEROS}
    text = (out / "summary.html").read_text(encoding="utf-8")
    assert "every one was graded" not in text
    documents = {s: json.loads((out / "results" / f"{s}.json").read_text()) for s in set(KINDS) - {"broken"}}
    assert {s for s, d in documents.items() if d["score"] == 0} | {"broken"} == ZEROS  # the class is as meant
    assert documents["correct"]["score"] > 0 and not documents["correct"]["empty"] and documents["empty"]["empty"]


def test_the_terminal_names_the_zeros_and_the_reasons(zeros_class):
    """grade batch's own output lists every zero with its reasons, and each reason with its students."""
    _, _, output = zeros_class
    assert "3 scored 0 or not graded:" in output
    assert "  empty: empty submission\n" in output
    assert "  stub: untouched stubs (activations.py, gradients.py, gru.py, lstm.py, rnn.py)\n" in output
    assert re.search(r"^  broken: not graded\n", output, re.M)
    assert "  A file does not import: syntax error (1): syntax (lstm.py)\n" in output
    assert "  A file does not import: it runs past the time limit (a loop at import) (1): hang (gru.py)\n" in output
    assert "  Missing files (1): missing (gradients.py)\n" in output
    assert "  Not in the roster: its row in grades.csv needs a match (1): crash\n" in output


def test_the_reasons_survive_a_rerun(zeros_class, zeros_root):
    """A rerun keeps every submission (nothing changed) and reads the reasons back from results/: the same
    summary."""
    base, out, _ = zeros_class
    before = _summary(out)
    result = CliRunner().invoke(main, ["batch", str(base / "submissions"), "--out", str(out), "--jobs", "2",
                                       "--roster", str(base / "roster.csv"), "--allow-unmatched",
                                       "--assignment", str(zeros_root)])
    assert result.exit_code == 0, result.output
    assert f"({len(KINDS)} unchanged since the last run" in result.output
    after = _summary(out)
    assert after.reasons == before.reasons and after.zeros == before.zeros


def test_a_class_without_a_reason_says_every_one_was_graded(zeros_root, tmp_path):
    """Only a class where nothing scored 0, failed to import, missed a file or hit a limit gets the all-clear."""
    write_submission(tmp_path / "submissions" / "ada", {})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "submissions"), "--out", str(out),
                                       "--assignment", str(zeros_root)])
    assert result.exit_code == 0, result.output
    page = _summary(out)
    assert page.reasons == {} and page.zeros == {}
    assert "every one was graded" in (out / "summary.html").read_text(encoding="utf-8")
    assert "scored 0" not in result.output


def test_late_and_unmatched_are_reasons_given_as_inputs():
    """Who came late is the LMS download's to say: given, it is a reason of its own, beside grading's."""
    from types import SimpleNamespace

    from gatelab.report import reasons

    rows = [SimpleNamespace(student="ann", score=0.0, max_score=10.0, error="", unclear=False,
                            digest={"findings": {"stubs": ["rnn.py"]}}),
            SimpleNamespace(student="bob", score=4.0, max_score=10.0, error="", unclear=False, digest={}),
            SimpleNamespace(student="cy", score=0.0, max_score=10.0, error="", unclear=False, digest={}),
            SimpleNamespace(student="!x", score=0.0, max_score=0.0, error="two folders", unclear=True, digest={})]
    explained = reasons.explain(rows, late={"bob", "ann"}, unmatched=["cy"])
    by_reason = {group.reason: [entry.student for entry in group.entries] for group in explained.groups}
    assert by_reason == {reasons.Reason.STUBS: ["ann"], reasons.Reason.NOTHING_RIGHT: ["cy"],
                         reasons.Reason.LATE: ["ann", "bob"], reasons.Reason.UNMATCHED: ["cy"]}
    assert [(z.student, list(z.reasons)) for z in explained.zeros] == [
        ("ann", [reasons.Reason.STUBS, reasons.Reason.LATE]),
        ("cy", [reasons.Reason.NOTHING_RIGHT, reasons.Reason.UNMATCHED])]


class Page(html.parser.HTMLParser):
    """A feedback page's landmarks in order, and each fold's test count with its text."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []
        self.folds: list[dict[str, object]] = []  # {"tests": n, "text": ...} in page order
        self.unjudged = 0
        self.depth = 0  # inside a fold's <div>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") in ("functions", "failures", "passes"):
            self.order.append(str(found["id"]))
        if tag == "div" and "data-tests" in found:
            self.folds.append({"tests": int(found["data-tests"] or 0), "text": ""})
            self.depth = 1
        elif tag == "div" and self.depth:
            self.depth += 1
        if tag == "p" and "unjudged" in (found.get("class") or ""):
            self.unjudged += int(found["data-tests"] or 0)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.folds[-1]["text"] = str(self.folds[-1]["text"]) + data


def _page(out: Path, student: str) -> tuple[Page, dict]:
    page = Page()
    page.feed((out / "feedback" / f"{student}.html").read_text(encoding="utf-8"))
    return page, json.loads((out / "results" / f"{student}.json").read_text())


def test_a_feedback_page_opens_with_the_table_then_failures_then_passes(zeros_class):
    """The per-function table first, then what failed, then what passed (folded away in <details>); every
    failing test is on the page once, in a fold or the unjudged line."""
    _, out, _ = zeros_class
    page, document = _page(out, "missing")
    assert page.order == ["functions", "failures", "passes"]
    failing = [t for t in document["tests"] if t["status"] != "passed"]
    assert sum(int(f["tests"]) for f in page.folds) + page.unjudged == len(failing)
    text = (out / "feedback" / "missing.html").read_text(encoding="utf-8")
    passes = text[text.index('id="passes"'):]
    assert "<details>" in passes and passes.count("✓") == sum(t["status"] == "passed" for t in document["tests"])


def test_a_repeated_message_is_shown_once_and_counted(zeros_class):
    """One missing file: its sentence is shown in full once on the page; the first function's fold counts its
    other tests ("the same for N more tests") and the later functions point back to it."""
    _, out, _ = zeros_class
    page, document = _page(out, "missing")
    text = (out / "feedback" / "missing.html").read_text(encoding="utf-8")
    assert text.count("there is no file gradients.py in the submission") == 1
    values = [t for t in document["tests"] if t["kind"] == "values" and t["function"] == "gradients.clip_by_value"]
    first = next(f for f in page.folds if "there is no file gradients.py" in str(f["text"]))
    assert first["tests"] == len(values) > 1
    assert f"The same for {len(values) - 1} more test" in str(first["text"])
    later = [f for f in page.folds if "The same message as under gradients.clip_by_value above" in str(f["text"])]
    assert len(later) == 3  # clip_by_global_norm, rnn_step_jacobian, gradient_norms_through_time
    markdown = (out / "feedback" / "missing.md").read_text(encoding="utf-8")
    assert markdown.count("there is no file gradients.py in the submission") == 1
    assert f"The same for {len(values) - 1} more test" in markdown
    assert markdown.count("The same message as under `gradients.clip_by_value` above.") == 3


def test_a_page_of_stubs_reads_short(zeros_class):
    """Untouched stubs: one fold per function (each stub has its own hint), its aspects in one line."""
    _, out, _ = zeros_class
    page, document = _page(out, "stub")
    code = [t for t in document["tests"] if t["kind"] != "question"]
    functions = {t["function"] for t in code}
    stub_folds = [f for f in page.folds if "is not implemented yet" in str(f["text"])]
    assert len(stub_folds) == len(functions)
    assert page.order == ["functions", "failures"]  # nothing passed: no passes section
