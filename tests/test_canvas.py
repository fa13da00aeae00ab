"""`grade batch` on Canvas's own "Download Submissions", as Canvas names its files (lib/content_zipper.rb):
``<sortable name, lowercased, non-word characters removed>_[LATE_]<user id>_<file id>_<uploaded name>``, a
text entry as ``..._<user id>_text.html``, a file uploaded again renamed ``name-1.py``, ``name-2.py`` ...
The gradebook it writes is read back with Python's csv module against what Canvas's importer
(app/models/gradebook_importer.rb) requires: "Student" then "ID" first, "Section" last of the student columns,
a row whose first cell holds "Points Possible", a student found by ID first."""
from __future__ import annotations

import csv
import io
import json
import shutil
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import COURSE, write_submission
from gatelab.cli import main
from gatelab.grading import canvas

EXPECTED = ["activations.py", "rnn.py", "lstm.py", "gru.py", "gradients.py", "answers.yaml"]
BUG = ("    return 1.0 - np.tanh(z) ** 2\n", "    return 1.0 - np.tanh(z)\n")  # tanh_derivative's


@pytest.mark.parametrize(("name", "who", "late", "user", "file_id", "uploaded"), [
    ("smithjo_101_9001_rnn.py", "smithjo", False, "101", 9001, "rnn.py"),
    ("müllerzoë_LATE_102_9002_activations-1.py", "müllerzoë", True, "102", 9002, "activations-1.py"),
    ("smithjo_late_101_9003_rnn.py", "smithjo", True, "101", 9003, "rnn.py"),  # older downloads: lowercase
    ("obrien_pat_104_9004_2_my_work.py", "obrien_pat", False, "104", 9004, "2_my_work.py"),
    ("smithjo_101_text.html", "smithjo", False, "101", None, "text.html"),  # a text entry: no file id
    ("smithjo_LATE_101_link.html", "smithjo", True, "101", None, "link.html"),
    ("anon_Xy3zQ_9005_rnn.py", "", False, "anon_Xy3zQ", 9005, "rnn.py"),  # anonymous grading: no name
    ("LATE_anon_Xy3zQ_9006_rnn.py", "", True, "anon_Xy3zQ", 9006, "rnn.py"),
    ("late_101_9007_rnn.py", "late", False, "101", 9007, "rnn.py"),  # a student whose name is Late
    (unicodedata.normalize("NFD", "müllerzoë_102_9008_gru.py"), "müllerzoë", False, "102", 9008, "gru.py"),
])
def test_canvas_file_names_are_read_back(name, who, late, user, file_id, uploaded):
    """Each part of Canvas's name, whatever the name or file holds (digits, underscores, accents as a Mac's
    unzip spells them)."""
    upload = canvas.parse(Path(name))
    assert upload is not None
    assert (upload.who, upload.late, upload.user, upload.file_id, upload.name) == (who, late, user, file_id,
                                                                                   uploaded)


@pytest.mark.parametrize("name", ["rnn.py", "jsmith", "S102.zip", "smith_jo.py", "smithjo_101.py", ".DS_Store"])
def test_names_that_are_not_canvas_are_left_alone(name):
    assert canvas.parse(Path(name)) is None


def _uploads(*names: str) -> list[canvas.Upload]:
    found = [canvas.parse(Path(name)) for name in names]
    assert all(found)
    return [u for u in found if u]


def test_the_latest_upload_is_graded_under_the_name_expected():
    """activations-1.py is the student's activations.py uploaded again (Canvas's file id is later): it is
    graded as activations.py and the first one left out, each said; a name the assignment does not expect
    keeps its name, -1 and all."""
    files, notices = canvas.latest(_uploads("kimlee_103_500_activations.py", "kimlee_103_900_activations-1.py",
                                            "kimlee_103_901_notes-1.pdf", "kimlee_103_501_rnn.py"), EXPECTED)
    assert {name: u.file_id for name, u in files.items()} == {"activations.py": 900, "notes-1.pdf": 901,
                                                             "rnn.py": 501}
    assert "activations-1.py was graded as activations.py (Canvas renames a file uploaded again)" in notices
    assert "activations.py left out: activations-1.py is your latest upload of activations.py" in notices


def test_canvas_file_ids_say_which_upload_is_latest_whatever_the_suffix():
    """A student who deleted activations.py from their files and uploaded it again gets the plain name back
    (file id 950), later than activations-2.py (800): the file id decides; the eighth upload's UUID too."""
    files, _ = canvas.latest(_uploads("kimlee_103_700_activations-1.py", "kimlee_103_800_activations-2.py",
                                      "kimlee_103_950_activations.py"), EXPECTED)
    assert files["activations.py"].file_id == 950
    uuid = "activations-0f8fad5b-d9cb-469f-a165-70867728950e.py"
    files, _ = canvas.latest(_uploads("kimlee_103_800_activations-7.py", f"kimlee_103_990_{uuid}"), EXPECTED)
    assert files["activations.py"].name == uuid
    files, _ = canvas.latest(_uploads("kimlee_103_text.html"), EXPECTED)  # no file id: nothing to compare
    assert list(files) == ["text.html"]


def test_a_file_the_assignment_expects_with_a_dash_is_never_renamed():
    """An assignment that expects ``x-1.py`` gets the student's ``x-1.py`` as it is (not taken for x.py
    uploaded again), and its ``x-1-1.py`` is that file uploaded again."""
    files, _ = canvas.latest(_uploads("kimlee_103_10_x.py", "kimlee_103_11_x-1.py"), ["x.py", "x-1.py"])
    assert {name: u.file_id for name, u in files.items()} == {"x.py": 10, "x-1.py": 11}
    files, _ = canvas.latest(_uploads("kimlee_103_11_x-1.py", "kimlee_103_12_x-1-1.py"), ["x-1.py"])
    assert files["x-1.py"].file_id == 12


def make_download(folder: Path, work: Path) -> dict[str, str]:
    """A Canvas download of six students, named as Canvas names them: on time; LATE (an accented name);
    a buggy activations.py uploaded again fixed (activations-1.py, a later file id) beside a PDF; a group's
    work as one zip of the team's folder (Canvas downloads a group's submission once, under the member who
    submitted); a text entry and no files; a student with no quiz answers. Returns key -> what it is."""
    folder.mkdir(parents=True)
    good = write_submission(work / "good", {})
    shutil.copy(COURSE / "solutions" / "answers.yaml", good / "answers.yaml")
    bad = write_submission(work / "bad", {"activations": BUG})

    def put(prefix: str, source: Path, first_id: int) -> None:
        for number, path in enumerate(sorted(source.iterdir())):
            shutil.copy(path, folder / f"{prefix}_{first_id + number}_{path.name}")

    put("smithjo_101", good, 1000)
    put("müllerzoë_LATE_102", good, 2000)
    put("kimlee_103", bad, 3000)
    shutil.copy(good / "activations.py", folder / "kimlee_103_3900_activations-1.py")
    (folder / "kimlee_103_3901_report.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    with zipfile.ZipFile(folder / "doeann_104_4000_team-rnn.zip", "w") as bundle:
        for path in sorted(good.iterdir()):
            bundle.write(path, f"team-rnn/{path.name}")
    (folder / "leejin_105_text.html").write_text("<p>I could not upload my files</p>\n")
    put("parkmin_106", write_submission(work / "no-quiz", {}), 6000)
    return {"smithjo_101": "on time", "müllerzoë_102": "late", "kimlee_103": "uploaded again",
            "doeann_104": "group zip", "leejin_105": "text entry", "parkmin_106": "no quiz"}


@pytest.fixture(scope="module")
def downloaded(tmp_path_factory):
    """The download graded as a folder, then the same download as the zip Canvas gives, into the same OUT."""
    base = tmp_path_factory.mktemp("canvas")
    root = base / "course"
    for name in ("grader", "solutions", "exercises"):
        shutil.copytree(COURSE / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "grader" / "config.yaml"
    path.write_text(path.read_text().replace("  timeout: 5 ", "  timeout: 1 ").replace("  budget: 60 ", "  budget: 8 "))
    students = make_download(base / "download", base / "work")
    out = base / "out"
    first = CliRunner().invoke(main, ["batch", str(base / "download"), "--out", str(out), "--jobs", "2",
                                      "--assignment", str(root)])
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    archive = base / "course-rnn submissions.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in sorted((base / "download").iterdir()):
            bundle.writestr(_Unflagged(file.name, date_time=(2026, 11, 30, 12, 0, 0)), file.read_bytes())
    with zipfile.ZipFile(archive) as bundle:  # as Canvas's: Python alone reads the accented names as cp437
        assert not any(m.flag_bits & 0x800 for m in bundle.infolist())
        assert "m├╝llerzo├½_LATE_102_2000_activations.py" in bundle.namelist()
    again = CliRunner().invoke(main, ["batch", str(archive), "--out", str(out), "--jobs", "2",
                                      "--assignment", str(root)])
    return base, root, out, students, first, rows, again


class _Unflagged(zipfile.ZipInfo):
    """A zip entry named as Canvas's zips name them: the name's UTF-8 bytes without the UTF-8 flag (rubyzip's
    default), which Python's zipfile never writes by itself."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's own name
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


def _documents(out: Path, students: dict[str, str]) -> dict[str, dict]:
    return {s: json.loads((out / "results" / f"{s}.json").read_text(encoding="utf-8")) for s in students}


def _code(document: dict, prefix: str = "") -> list[dict]:
    return [t for t in document["tests"] if t["kind"] != "question" and t["function"].startswith(prefix)]


def test_a_canvas_download_is_graded_student_by_student(downloaded):
    """Every student of the download has a row (none read as '0 submissions'), in name order, with their
    Canvas id in ID (what Canvas's import matches first) and no SIS id made up; the LATE one is printed."""
    _, _, _, students, result, rows, _ = downloaded
    assert result.exit_code == 0, result.output
    assert "6 submissions (0 unchanged since the last run, 0 not graded)" in result.output
    assert "late (Canvas marked LATE): müllerzoë_102" in result.output
    header, possible, *people = rows
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                      "Recurrent networks: RNN, LSTM and GRU"]
    assert possible[0].strip() == "Points Possible" and possible[1:5] == ["", "", "", ""] and float(possible[5]) > 0
    assert [row[:5] for row in people] == [["doeann", "104", "", "", ""], ["kimlee", "103", "", "", ""],
                                           ["leejin", "105", "", "", ""], ["müllerzoë", "102", "", "", ""],
                                           ["parkmin", "106", "", "", ""], ["smithjo", "101", "", "", ""]]
    scores = {row[1]: float(row[5]) for row in people}
    assert scores["103"] == scores["106"] > 0  # every code point, no quiz: the upload fixed in -1 was graded
    assert scores["101"] > scores["106"]  # the same code, and quiz answers
    assert scores["105"] == 0


def test_each_student_is_graded_from_their_own_latest_files(downloaded):
    """Correct files score every code point, whatever their name prefix (LATE too) or packing (the group's
    zip of a folder); kimlee's activations-1.py is graded as activations.py, replacing the buggy first upload,
    and told so; the text entry is graded as no files, with its reason."""
    _, _, out, students, _, _, _ = downloaded
    documents = _documents(out, students)
    for student in ("smithjo_101", "müllerzoë_102", "kimlee_103", "doeann_104", "parkmin_106"):
        assert _code(documents[student]) and all(t["status"] == "passed" for t in _code(documents[student])), \
            student
    assert "activations-1.py was graded as activations.py (Canvas renames a file uploaded again)" in \
        documents["kimlee_103"]["notices"]
    assert "activations.py left out: activations-1.py is your latest upload of activations.py" in \
        documents["kimlee_103"]["notices"]
    assert sorted(p.name for p in (out / "canvas" / "kimlee_103").iterdir()) == \
        ["activations.py", "gradients.py", "gru.py", "lstm.py", "report.pdf", "rnn.py"]
    assert any("team-rnn.zip was unpacked" in n for n in documents["doeann_104"]["notices"])
    assert all("there is no file" in t["feedback"] for t in _code(documents["leejin_105"]) if t["kind"] == "values")
    summary = (out / "summary.html").read_text(encoding="utf-8")
    late_row = summary.split('<tr data-reason="late">', 1)[1].split("</tr>", 1)[0]
    assert 'data-student="müllerzoë_102"' in late_row and "Late: submitted after the due date" in late_row


def test_the_zip_canvas_gives_is_the_same_class(downloaded):
    """The download's zip, as Canvas gives it, holds the same students with the same files: nothing is
    graded again and grades.csv is byte for byte the one the folder gave."""
    _, _, out, _, first, rows, again = downloaded
    assert again.exit_code == 0, again.output
    assert "6 submissions (6 unchanged since the last run, 0 not graded)" in again.output
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == rows


ROSTER = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Recurrent networks (77)"],
          ["    Points Possible", "", "", "", "", "190"],
          ["Smith, Jo", "101", "S101", "jsmith", "A"], ["Müller, Zoë", "102", "S102", "zmuller", "A"],
          ["Kim, Lee", "103", "S103", "lkim", "B"], ["Lee, Jin", "105", "S105", "jlee", "B"],
          ["Park, Min", "106", "S106", "mpark", "B"], ["Student, Test", "999", "", "", "A"]]


def _write_roster(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROSTER)
    return path


def test_a_roster_gives_canvas_students_their_rows_and_names_the_unmatched(downloaded):
    """With Canvas's own gradebook export as roster, each student of the download takes the row with their
    Canvas id (names, SIS ids, section from the roster); doeann (104) is not in it: printed, kept under their
    Canvas id, and the batch exits 1, or 0 with --allow-unmatched."""
    base, root, out, _, _, _, _ = downloaded
    roster = _write_roster(base / "roster.csv")
    command = ["batch", str(base / "download"), "--out", str(out), "--roster", str(roster), "--column",
               "Recurrent networks (77)", "--assignment", str(root)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1, result.output
    assert "unmatched: doeann_104 is not in the roster" in result.output
    assert "1 submission(s) not in the roster and 0 not told apart" in result.output
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        header, possible, *people = list(csv.reader(handle))
    assert header[5] == "Recurrent networks (77)"
    assert [row[:5] for row in people] == [["doeann", "104", "", "", ""], ROSTER[4][:5], ROSTER[5][:5],
                                           ROSTER[3][:5], ROSTER[6][:5], ROSTER[2][:5]]
    assert "doeann_104" in (out / "summary.html").read_text(encoding="utf-8")
    allowed = CliRunner().invoke(main, [*command, "--allow-unmatched"])
    assert allowed.exit_code == 0, allowed.output
    assert "unmatched: doeann_104 is not in the roster" in allowed.output


def test_folders_named_as_the_roster_names_students_take_their_rows(tmp_path):
    """A folder named exactly as the roster's "Müller, Zoë" (spelt decomposed, as a Mac writes it), one
    named "Lee Kim" (First Last), one by SIS Login ID in capitals: each takes its student's row. Accents are
    kept: "Muller, Zoe" is someone else, printed as unmatched, its Student cell its name as written (what
    Canvas's importer matches a name against when no id matches)."""
    folder = tmp_path / "class"
    for name in (unicodedata.normalize("NFD", "Müller, Zoë"), "Lee Kim", "JSMITH", "Muller, Zoe"):
        (folder / name).mkdir(parents=True)
    roster = _write_roster(tmp_path / "roster.csv")
    result = CliRunner().invoke(main, ["batch", str(folder), "--out", str(tmp_path / "out"), "--roster",
                                       str(roster), "--assignment", str(COURSE), "--allow-unmatched"])
    assert result.exit_code == 0, result.output
    assert "unmatched: Muller_Zoe is not in the roster" in result.output
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        people = list(csv.reader(handle))[2:]
    assert [row[:5] for row in people] == [ROSTER[2][:5], ROSTER[4][:5],
                                           ["Muller, Zoe", "", "Muller_Zoe", "Muller_Zoe", ""], ROSTER[3][:5]]


def test_matching_by_name_is_unicode_normalised_both_orders_and_never_guesses():
    """The roster's "Last, First" and "First Last", NFC on both sides; a Canvas student only by their
    Canvas id, never by a name; two folders naming one student take no row."""
    from gatelab.grading.batch import Row
    from gatelab.report import classbook

    roster = [dict(zip(ROSTER[0], row)) for row in ROSTER[2:]]
    rows = [Row("Zoë_Müller", "/c/" + unicodedata.normalize("NFD", "Zoë Müller"), score=3, max_score=10),
            Row("smithjo_7", "/out/canvas/smithjo_7", score=4, max_score=10, canvas_id="7", canvas_name="smithjo"),
            Row("Kim_Lee", "/c/Kim, Lee", score=5, max_score=10), Row("S103", "/c/S103", score=6, max_score=10)]
    book = classbook.canvas_csv(rows, "A (1)", roster)
    header, possible, *people = csv.reader(io.StringIO(book.text, newline=""))
    assert possible[5] == "10"
    assert people == [ROSTER[3][:5] + ["3"], ["smithjo", "7", "", "", "", "4"]]
    assert book.unmatched == ["smithjo_7"]
    assert any("'Kim, Lee', 'S103' all name Kim, Lee" in message for message in book.unresolved)


def test_nothing_graded_leaves_points_possible_empty():
    """A class with no grade gives an empty Points Possible cell (Canvas's importer leaves the assignment's
    points as they are), never 0."""
    from gatelab.grading.batch import Row
    from gatelab.report import classbook

    book = classbook.canvas_csv([Row("x", "/c/x.zip", error="not a zip")], "A (1)")
    assert list(csv.reader(io.StringIO(book.text, newline="")))[1] == ["    Points Possible", "", "", "", "", ""]


def test_links_and_impossible_names_in_a_download_are_never_followed(tmp_path):
    """A symbolic link named as Canvas names files is not read (grading never follows links); an upload
    whose name would be '..' is left out with a notice, and nothing is written outside the student's folder."""
    folder = tmp_path / "download"
    folder.mkdir()
    (tmp_path / "secret.py").write_text("SECRET = 1\n")
    (folder / "smithjo_101_1_activations.py").symlink_to(tmp_path / "secret.py")
    (folder / "smithjo_101_2_..").write_text("x\n")
    (folder / "smithjo_101_3_rnn.py").write_text("# rnn\n")
    students = canvas.group(folder)
    assert [u.name for u in students["smithjo_101"].uploads] == ["..", "rnn.py"]
    notices = canvas.stage(students["smithjo_101"], tmp_path / "staged" / "smithjo_101", EXPECTED)
    assert sorted(p.name for p in (tmp_path / "staged").rglob("*")) == ["rnn.py", "smithjo_101"]
    assert "'..' was left out: not a file name" in notices
