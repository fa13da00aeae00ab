"""The hostile suite: submissions that attack the grader or game its scoring, as data, each with what must hold.

Every folder under tests/hostile/ is one submission: its ``expect.yaml``
says what it does, how it is built (the reference with edits, plus the files
in the folder) and what must hold after grading it the way the autograder
does (hidden tests included; ``grader_mb`` bounds the peak of the grader's own Python allocations,
measured with tracemalloc). Whatever the entry, these always hold too: a
fake secret in the grader's environment appears nowhere in the results,
neither does any line of the reference's solutions that the submission does not hold itself, the grader never fails
(no test in status error), and nothing is written where the hostile code
aimed (``/tmp/gatelab-hostile-*``).

Each hostile submission is bounded, so that it stays harmless if
containment fails: a few GB of memory at most, a handful of processes,
under a minute, writes only under the temporary folder, network only on
loopback.
"""
from __future__ import annotations

import csv
import glob
import html.parser
import io
import json
import math
import os
import re
import secrets
import shutil
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import COURSE, values_tests, write_submission
from gatelab import grading
from gatelab.course import config
from gatelab.report import classbook, exporters, render
from gatelab.report.exporters import github, gradescope, junit, markdown, prairielearn, terminal
from gatelab.report.exporters import json as json_exporter
from gatelab.report.render import Renderer
from gatelab.report.results import Results

HOSTILE = Path(__file__).resolve().parent / "hostile"
ENTRIES = sorted(p.name for p in HOSTILE.iterdir() if (p / "expect.yaml").is_file())
KEYS = {"about", "threat", "base", "replace", "append", "symlinks", "limits", "quiz", "lost", "lost_includes",
        "code_points", "says", "feedback_has", "output_has", "notices_have", "no_mistake_named", "max_seconds",
        "absent", "visible_lacks", "knows_layout", "no_process", "terminal_shows", "fenced_in_markdown",
        "grader_mb"}
THREATS = {"scoring", "secrets", "time", "memory", "processes", "files", "network", "output", "protocol",
           "isolation", "leaks"}


@pytest.fixture(scope="module")
def fast_root(tmp_path_factory) -> Path:
    """The real assignment with a 1-second call limit and a 20-second budget, so hostile code costs little time."""
    root = tmp_path_factory.mktemp("assignment")
    shutil.copytree(COURSE / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    data = yaml.safe_load((root / "grader" / "config.yaml").read_text())
    data.update(solutions=str(COURSE / "solutions"), exercises=str(COURSE / "exercises"))
    data["limits"].update(timeout=1, budget=20)
    (root / "grader" / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def _assignment(fast_root: Path, limits: dict, tmp_path: Path) -> config.Assignment:
    if not limits:
        return config.load(fast_root)
    root = tmp_path / "assignment"
    shutil.copytree(fast_root, root)
    data = yaml.safe_load((root / "grader" / "config.yaml").read_text())
    data["limits"].update(limits)
    (root / "grader" / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return config.load(root)


def build(name: str, expect: dict, into: Path) -> Path:
    """The submission folder of one entry: the base, its edits, its own files, its symlinks."""
    edits: dict[str, list[tuple[str, str]]] = {}
    for edit in expect.get("replace", []):
        edits.setdefault(edit["module"], []).append((edit["old"], edit["new"]))
    if expect.get("base", "reference") == "reference":
        write_submission(into, edits)
    else:
        into.mkdir(parents=True, exist_ok=True)
    for module, text in expect.get("append", {}).items():
        with open(into / f"{module}.py", "a") as file:
            file.write("\n\n" + text)
    for path in (HOSTILE / name).iterdir():
        if path.name != "expect.yaml":
            shutil.copy(path, into / path.name)
    if expect.get("knows_layout"):  # as on Gradescope, where the assignment's place is public knowledge
        (into / "layout.py").write_text(f"SOLUTIONS = {str(COURSE / 'solutions')!r}\n"
                                        f"GRADER = {str(COURSE / 'grader')!r}\n")
    for link, target in expect.get("symlinks", {}).items():
        (into / link).unlink(missing_ok=True)
        (into / link).symlink_to(COURSE / target)
    return into


def test_the_suite_is_large_and_well_formed():
    """At least 30 hostile submissions, each saying what it does, which threat it covers, and what must hold."""
    assert len(ENTRIES) >= 30
    for name in ENTRIES:
        expect = yaml.safe_load((HOSTILE / name / "expect.yaml").read_text())
        assert set(expect) <= KEYS, (name, set(expect) - KEYS)
        assert expect.get("about") and expect.get("threat") in THREATS, name
        assert {"lost", "lost_includes", "code_points"} & set(expect), f"{name} says nothing about points"
    covered = {yaml.safe_load((HOSTILE / n / "expect.yaml").read_text())["threat"] for n in ENTRIES}
    assert covered == THREATS, THREATS - covered


@pytest.mark.parametrize("path", ["posix", "portable"])
@pytest.mark.parametrize("name", ENTRIES)
def test_hostile_submission_is_contained(fast_root, tmp_path, monkeypatch, name, path):
    """Grading the entry finishes, costs it what its expect.yaml says, and leaks nothing: with workers started
    as on Linux and macOS, and on the portable path (Windows's; GATELAB_SANDBOX=portable)."""
    monkeypatch.setenv("GATELAB_SANDBOX", "portable" if path == "portable" else "auto")
    expect = yaml.safe_load((HOSTILE / name / "expect.yaml").read_text())
    secret = f"gatelab-fake-secret-{secrets.token_hex(8)}"
    monkeypatch.setenv("GATELAB_FAKE_SECRET", secret)
    for leftover in glob.glob("/tmp/gatelab-hostile-*"):
        shutil.rmtree(leftover, ignore_errors=True) if os.path.isdir(leftover) else os.unlink(leftover)
    assignment = _assignment(fast_root, expect.get("limits", {}), tmp_path)
    submission = build(name, expect, tmp_path / "submission")

    started = time.monotonic()
    if "grader_mb" in expect:
        tracemalloc.start()
    try:
        results = grading.grade(assignment, submission, grading.Request(quiz="full" if expect.get("quiz") else "none"))
    finally:
        peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else 0
        tracemalloc.stop()
    seconds = time.monotonic() - started
    assert peak <= expect.get("grader_mb", math.inf) * 2**20, f"the grader's Python objects peaked at {peak >> 20} MB"

    code = [t for t in results.tests if not t.function.startswith("quiz.")]
    lost = sorted({t.function for t in code if not t.passed})
    failing = [t for t in values_tests(results) if not t.passed]
    everything = json.dumps(json_exporter.render(results)) + json.dumps(gradescope.render(results))
    written_in_utf8(results)
    assert secret not in everything, "the grader's environment reached the results"
    own = "\n".join(p.read_text() for p in submission.glob("*.py"))
    leaked = [line for line in _solution_lines() if line.strip() in everything and line.strip() not in own]
    assert not leaked, "the reference's code reached the results"
    assert not [t.name for t in results.tests if t.status == "error"], results.faults
    assert not glob.glob("/tmp/gatelab-hostile-*"), "hostile code wrote outside its sandbox"
    assert seconds < expect.get("max_seconds", 60)
    if "lost" in expect:
        assert lost == sorted(expect["lost"]), [(t.name, t.feedback[:200]) for t in code if not t.passed]
    if "lost_includes" in expect:
        assert set(expect["lost_includes"]) <= set(lost), lost
    if "code_points" in expect:
        assert sum(t.score for t in code) == expect["code_points"], \
            [(t.name, t.feedback[:200]) for t in code if t.passed]
    if "says" in expect:
        lost_values = [t for t in failing if t.function in expect.get("lost", lost)]
        assert lost_values and all(expect["says"] in t.feedback for t in lost_values), \
            [t.feedback[:300] for t in lost_values]
    if "feedback_has" in expect:
        assert any(expect["feedback_has"] in t.feedback for t in results.tests)
    if "output_has" in expect:
        assert any(expect["output_has"] in t.output for t in results.tests)
    if "notices_have" in expect:
        assert any(expect["notices_have"] in n for n in results.notices), results.notices
    for text in expect.get("absent", []):
        assert text not in everything, text
    visible = "\n".join(t.feedback + t.output for t in results.tests if t.visibility == "visible")
    for text in expect.get("visible_lacks", []):
        assert text not in visible, text
    if "no_process" in expect:
        assert not _processes_running(expect["no_process"]), "a process the submission started outlived grading"
    if expect.get("no_mistake_named"):
        assert not [t.name for t in results.tests if t.mistakes or "known mistake" in t.feedback]
    if "terminal_shows" in expect:
        _shows_on_a_terminal(results, expect["terminal_shows"])
    if "fenced_in_markdown" in expect:
        _fenced_in_markdown(results, expect["fenced_in_markdown"])


def _shows_on_a_terminal(results, spelt: list[str]) -> None:
    """The terminal report (every failing test shown) holds no control character but its own styles, and
    shows each of ``spelt``, what the submission wrote with its escapes spelt out; so do the messages GitHub
    Classroom's reporter prints to the job's log."""
    text = terminal.render(results, Renderer(), verbose=True)
    raw = re.sub(r"\x1b\[[0-9;]*m", "", text)  # the report's own bold and colours
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", raw), [line for line in raw.splitlines()
                                                                 if re.search("[\x00-\x1f\x7f-\x9f]", line)]
    for shown in spelt:
        assert shown in text, (shown, text)
    log = "\n".join(t["message"] for t in github.render(results)["tests"])  # GitHub Classroom prints it to a log
    assert spelt[0] in log and not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", log)


def _fenced_in_markdown(results, marker: str) -> None:
    """In the Markdown summary (and a failure's, quoting a failing test's text), a CommonMark parser finds
    ``marker``, which the submission printed and raised with, only inside code blocks."""
    markdown_it = pytest.importorskip("markdown_it")
    failing = next(t for t in results.tests if marker in exporters.text_of(t))
    for document in (markdown.render(results), markdown.failure(exporters.text_of(failing))):
        tokens = markdown_it.MarkdownIt("commonmark").parse(document)
        code = [t.content for t in tokens if t.type in ("fence", "code_block")]
        assert any(marker in block for block in code)
        outside = [t.content for t in tokens if t.type not in ("fence", "code_block") and marker in t.content]
        assert not outside, outside


def written_in_utf8(results: Results) -> None:
    """Every exporter's document encodes as strict UTF-8 and parses with its real parser."""
    renderer = render.Renderer()
    for document in (json_exporter.render(results), gradescope.render(results), github.render(results),
                     github.reporter(github.render(results)), prairielearn.render(results)):
        assert json.loads(json.dumps(document, ensure_ascii=False).encode("utf-8")) is not None
    ET.fromstring(junit.render(results).encode("utf-8"))
    markdown.render(results, renderer).encode("utf-8")
    terminal.render(results, renderer, verbose=True).encode("utf-8")
    page = classbook.feedback_html(json_exporter.render(results), renderer).encode("utf-8")
    html.parser.HTMLParser().feed(page.decode("utf-8"))
    row = SimpleNamespace(student="s1", source="s1", score=results.score, max_score=results.max_score, unclear=False)
    list(csv.reader(io.StringIO(classbook.canvas_csv([row], "Title (1)").text.encode("utf-8").decode("utf-8"))))


def _processes_running(marker: str) -> list[str]:
    """Command lines of running processes that hold ``marker``."""
    found = []
    for entry in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            line = Path(entry).read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in line:
            found.append(line)
    return found


def _solution_lines() -> list[str]:
    """Distinctive lines of the reference's solution bodies (long enough not to occur by chance)."""
    lines = []
    for path in (COURSE / "solutions").glob("*.py"):
        inside = False
        for line in path.read_text().splitlines():
            if line.strip().startswith("# BEGIN SOLUTION"):
                inside = True
            elif line.strip().startswith("# END SOLUTION"):
                inside = False
            elif inside and len(line.strip()) > 40:
                lines.append(line)
    return lines
