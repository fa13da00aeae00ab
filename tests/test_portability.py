"""Students on every laptop: consoles in legacy code pages, files from any editor, paths with spaces and accents.

(The portable sandbox path, Windows's, is tested with every sandbox and hostile test: see test_sandbox.py and
test_hostile_suite.py.)
"""
from __future__ import annotations

import codecs
import io
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

from conftest import COURSE, write_submission
from gatelab import grading
from gatelab.course import config
from gatelab.errors import ConfigError
from gatelab.report import console
from gatelab.report.results import Kind
from gatelab.textfiles import NotText, decode

ANSWERS = (COURSE / "solutions" / "answers.yaml").read_text(encoding="utf-8")


def _grade(*args: str, cwd: Path = COURSE, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m gatelab ARGS`` in a process of its own, its output redirected (bytes as written)."""
    environment = {**os.environ, "GATELAB_SERVER": "0", **env}
    return subprocess.run([sys.executable, "-m", "gatelab", *args], cwd=cwd, env=environment,
                          capture_output=True, timeout=300)


# --- consoles -------------------------------------------------------------------------------------


def test_a_check_redirected_in_a_windows_code_page_completes_with_readable_ascii_marks():
    """PYTHONIOENCODING=cp1252 (Windows redirecting to a file): every line is written, in cp1252, with ok/x
    marks and the symbols the code page lacks spelled out (the quiz's explanations have ≈ in them)."""
    done = _grade("check", "--all", "--verbose", "--submission", str(COURSE / "solutions"),
                  PYTHONIOENCODING="cp1252")
    assert done.returncode == 0, done.stderr.decode("cp1252", errors="replace")
    text = done.stdout.decode("cp1252")  # it is cp1252 throughout
    assert "internal error" not in text + done.stderr.decode("cp1252")
    assert "  ok sigmoid" in text and "✓" not in text
    assert "~=" in text and "Score: 190/190" in text


def test_an_ascii_pipe_gets_ascii_only():
    done = _grade("check", "--submission", str(COURSE / "solutions"), "lstm", PYTHONIOENCODING="ascii")
    assert done.returncode == 0
    done.stdout.decode("ascii")  # nothing else in it
    assert b"  ok forget_gate" in done.stdout


def test_a_stream_spells_only_what_its_encoding_lacks():
    legacy = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    console.prepare(legacy)
    legacy.write("Zoë: c<t> = Γf · c<t-1> ≈ σ(z) ✓ — done")
    legacy.flush()
    assert legacy.buffer.getvalue().decode("cp1252") == "Zoë: c<t> = Gammaf · c<t-1> ~= sigma(z) ok — done"
    assert console.marks(legacy) == {"pass": "ok", "fail": "x", "pending": "?"}
    unicode = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    console.prepare(unicode)
    assert unicode.errors == "strict" and console.marks(unicode) == {"pass": "✓", "fail": "✗", "pending": "?"}


# --- files from any editor ------------------------------------------------------------------------


@pytest.mark.parametrize("encoded", [
    lambda text: codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"),
    lambda text: text.replace("\n", "\r\n").encode("utf-16"),  # Notepad's "Unicode": a BOM, then UTF-16 LE
    lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
], ids=["utf8-bom-crlf", "utf16-le", "utf16-be"])
def test_text_from_any_editor_reads_as_written(encoded):
    text = "student: Zoë\nunrolled-rnn-depth: true\n"
    assert decode(encoded(text)).replace("\r\n", "\n") == text


def test_a_legacy_code_page_is_refused_with_the_line_and_what_to_do():
    with pytest.raises(NotText) as caught:
        decode("student: anna\n# Zoë's answers\n".encode("cp1252"))
    assert caught.value.line == 2
    assert "not UTF-8 text (byte 0xeb, 'ë' in the Windows code page): save the file as UTF-8" in str(caught.value)


def test_answers_saved_by_any_editor_are_marked_and_a_legacy_one_is_named(assignment, tmp_path):
    """An answers file with a BOM and CRLF line endings, or in UTF-16, marks as the UTF-8 one does; one in a
    legacy code page marks nothing and says where and what to do (the run goes on)."""
    folder = write_submission(tmp_path / "s", {})
    (folder / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    plain = grading.grade(assignment, folder, grading.Request(target="quiz"))
    for data in (codecs.BOM_UTF8 + ANSWERS.replace("\n", "\r\n").encode(), ANSWERS.encode("utf-16")):
        (folder / "answers.yaml").write_bytes(data)
        again = grading.grade(assignment, folder, grading.Request(target="quiz"))
        assert [(t.name, t.score) for t in again.tests] == [(t.name, t.score) for t in plain.tests]
    assert plain.score == plain.max_score > 0
    (folder / "answers.yaml").write_bytes(ANSWERS.replace("student: reference", "student: Zoë").encode("cp1252"))
    legacy = grading.grade(assignment, folder, grading.Request(target="quiz"))
    assert legacy.score == 0
    assert any(n.startswith("answers.yaml:4: the answers file is not UTF-8 text (byte 0xeb") for n in legacy.notices)


def test_a_config_in_a_legacy_code_page_cites_file_and_line(make_assignment):
    root = make_assignment()
    path = root / "grader" / "config.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(n for n, text in enumerate(lines) if text.startswith("title:"))
    lines[line] = 'title: "Réseaux récurrents"\n'
    path.write_bytes("".join(lines).encode("cp1252"))
    with pytest.raises(ConfigError) as caught:
        config.load(root)
    assert f"{path}:{line + 1}" in str(caught.value) and "not UTF-8 text (byte 0xe9" in str(caught.value)


def test_an_exercise_saved_in_a_legacy_code_page_is_explained(assignment, tmp_path):
    folder = write_submission(tmp_path / "s", {})
    source = (folder / "activations.py").read_text(encoding="utf-8").replace(
        "import numpy as np", 'import numpy as np\nGREETING = "Zoë"', 1)
    (folder / "activations.py").write_bytes(source.encode("cp1252"))
    results = grading.grade(assignment, folder, grading.Request(target="activations.sigmoid", quiz="none"))
    assert results.tests and not any(t.passed for t in results.tests if t.kind is Kind.VALUES)
    assert any("activations.py is not saved as UTF-8, the encoding Python reads: save it as UTF-8" in t.feedback
               for t in results.tests)


# --- paths ----------------------------------------------------------------------------------------


def test_a_course_in_a_folder_with_spaces_and_accents_checks_and_quizzes(tmp_path):
    """C:\\Users\\Zoë\\My Course on a student's laptop: the release's layout under such a path grades."""
    home = tmp_path / "Zoë" / "My Course"
    for part in ("grader", "exercises", "solutions"):
        shutil.copytree(COURSE / part, home / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(COURSE / "solutions" / "answers.yaml", home / "exercises" / "answers.yaml")
    done = _grade("check", "--submission", str(home / "solutions"), cwd=home / "exercises")
    text = done.stdout.decode("utf-8")
    assert done.returncode == 0, done.stderr.decode()
    assert f"submission: {home / 'solutions'}" in text and "Score: " in text
    assert "Traceback" not in text + done.stderr.decode()
    data = yaml.safe_load((home / "grader" / "config.yaml").read_text(encoding="utf-8"))
    assert data["title"] in text


def test_a_class_keeps_its_students_names_in_any_script(tmp_path):
    """Submission folders named by an LMS export keep their letters (a Mac's decomposed names read as the same
    student as anyone else's); only what a file name or a CSV cell should not hold is replaced."""
    from gatelab.grading.batch import submissions

    for name in ["Zoë Müller", unicodedata.normalize("NFD", "Åsa Öberg"), "李 雷", "o'neil+late@x.edu", "  "]:
        (tmp_path / name).mkdir()
    assert sorted(submissions(tmp_path)) == sorted(["o_neil+late@x.edu", "unnamed", "Zoë_Müller", "Åsa_Öberg",
                                                    "李_雷"])
