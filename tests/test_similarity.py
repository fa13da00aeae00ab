"""Similarity across a generated class (tests/similar_class.py): independent students each in a style of their
own, a quarter with a common bug; planted among them copies (renamed, reordered), pairs sharing a rare bug,
and copies of the reference. Graded by `grade batch --similarity`, and compared alone by `grade similarity`."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner
from similar_class import make_class

from conftest import COURSE
from gatelab.cli import main
from gatelab.course import config
from gatelab.grading import batch
from gatelab.similarity.compare import Options

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _pairs(path: Path) -> dict[frozenset[str], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return {frozenset((row["first"], row["second"])): row for row in rows if row["kind"] == "pair"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of 40 graded with `grade batch --similarity` (the real grading: digests of wrong values)."""
    root = tmp_path_factory.mktemp("similar")
    planted = make_class(root / "class", 40, seed=3)
    out = root / "out"
    result = CliRunner().invoke(main, ["batch", str(root / "class"), "--out", str(out), "--similarity",
                                       "--assignment", str(COURSE), "--isolation", "weak"])
    assert result.exit_code == 0, result.output
    return planted, out, result.output


def test_a_renamed_and_reordered_copy_is_flagged_and_independent_work_is_not(graded):
    planted, out, output = graded
    flagged = _pairs(out / "similarity.csv")
    for original, copy in planted.copies:
        assert frozenset((original, copy)) in flagged, f"the copy {copy} of {original} is not flagged"
    expected = {frozenset(pair) for pair in planted.copies}
    assert set(flagged) <= expected, f"flagged beyond the planted copies: {set(flagged) - expected}"
    assert f"similarity: {len(expected)} pair" in output and "not a finding" in output


def test_a_pair_sharing_one_rare_mistake_ranks_above_every_independent_pair(graded):
    planted, out, _ = graded
    assignment = config.load(COURSE)
    every = batch.similar(assignment, out / ".." / "class", out, Options(threshold=0.0))  # the batch's results
    score = {frozenset((p.first, p.second)): p for p in every.pairs}
    independent = [score[frozenset(p)].score for p in combinations(planted.independent, 2) if frozenset(p) in score]
    for a, b in planted.rare_mistake_pairs:
        pair = score[frozenset((a, b))]
        assert pair.shared, "the rare mistake they share is named"
        assert all(shared.held_by == 2 for shared in pair.shared)
        assert pair.score > max(independent, default=0.0), (pair, max(independent))
        assert pair.score < 0.5  # one shared mistake alone is a reason to look, below the threshold


def test_a_copy_of_the_reference_is_close_to_the_reference_not_paired_with_the_class(graded):
    planted, out, _ = graded
    rows = list(csv.DictReader(io.StringIO((out / "similarity.csv").read_text(encoding="utf-8"))))
    close = [row["first"] for row in rows if row["kind"] == "close to the reference"]
    for student in planted.reference_copies:
        assert student in close
        assert not any(student in pair for pair in _pairs(out / "similarity.csv"))
    assert not set(close) & set(planted.independent), "independent styles are not the reference"


def test_the_summary_shows_the_pairs_with_their_matching_code(graded):
    planted, out, _ = graded
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert 'id="similarity"' in page and "Nothing here changes a grade" in page
    original, copy = planted.copies[0]
    assert f'data-first="{min(original, copy)}" data-second="{max(original, copy)}"' in page
    assert '<details class="pair"' in page and "these two alone" in page


def test_a_rerun_without_similarity_keeps_the_grades_and_drops_the_stale_csv(graded, tmp_path):
    _, out, _ = graded
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    result = CliRunner().invoke(main, ["batch", str(out / ".." / "class"), "--out", str(copy),
                                       "--assignment", str(COURSE), "--isolation", "weak"])
    assert result.exit_code == 0, result.output
    assert (copy / "grades.csv").read_bytes() == (out / "grades.csv").read_bytes()  # nothing touched a grade
    assert not (copy / "similarity.csv").exists() and 'id="similarity"' not in (copy / "summary.html").read_text()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to render the page")
def test_the_similarity_section_renders_in_a_browser(graded, tmp_path):
    _, out, _ = graded
    shot = tmp_path / "similarity.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1000,1400",
                    (out / "summary.html").as_uri() + "#similarity"], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000


def test_a_bigger_class_compared_on_its_code_alone(tmp_path):
    """`grade similarity` without grading: 150 students, copies flagged, no pair of independent ones."""
    planted = make_class(tmp_path / "class", 150, seed=11)
    result = CliRunner().invoke(main, ["similarity", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                                       "--assignment", str(COURSE)])
    assert result.exit_code == 0, result.output
    flagged = _pairs(tmp_path / "out" / "similarity.csv")
    assert {frozenset(pair) for pair in planted.copies} <= set(flagged)
    independent = set(planted.independent)
    assert not [pair for pair in flagged if pair <= independent]
    assert (tmp_path / "out" / "similarity.html").read_text().count("<details") >= len(planted.copies)


def test_unreadable_submissions_are_listed_and_the_rest_compared(tmp_path):
    make_class(tmp_path / "class", 10, seed=5)
    (tmp_path / "class" / "broken.zip").write_bytes(b"PK\x03\x04 not a zip")
    result = CliRunner().invoke(main, ["similarity", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                                       "--assignment", str(COURSE)])
    assert result.exit_code == 0, result.output
    assert "of 11 submissions" in result.output
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "Not compared" in page and "broken" in page and "not a readable zip file" in page
