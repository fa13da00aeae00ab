"""The parts of a class's similarity check: tokens that ignore names, comments, layout and order; the digest
of wrong values; the judge's record of a function's own wrong values; reading a submission's sources."""
from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from conftest import COURSE, write_submission
from gatelab import grading
from gatelab.grading import likeness, submission
from gatelab.report.render import Renderer
from gatelab.similarity import compare, prints, report, tokens

ORIGINAL = '''"""Module docstring."""
import numpy as np


def gate(x, h, params):
    """A gate."""
    # stack them
    both = np.concatenate([h, x], axis=0)
    return np.tanh(params["W"] @ both + params["b"])


def other(a):
    total = 0
    for item in a:
        total += item * 2
    return total
'''

DISGUISED = '''import numpy as numpy_lib
def other(values):
    # a loop
    acc = 0
    for v in values:
        acc += v * 2
    return acc
def gate(inp, hidden, p):
    stacked = numpy_lib.concatenate(
        [hidden, inp], axis=0)   # reflowed
    return numpy_lib.tanh(p['W'] @ stacked + p['b'])
'''


def _grams(source: str) -> set[int]:
    return set(prints.grams(tokens.of_files({"m": source})).hashes.tolist())


def test_renaming_comments_layout_and_order_leave_the_k_grams_as_they_were():
    assert _grams(ORIGINAL) == _grams(DISGUISED)
    changed = DISGUISED.replace("v * 2", "v * 3")
    assert _grams(changed) != _grams(ORIGINAL)


def test_what_a_student_cannot_choose_stays_names_they_choose_go():
    texts = tokens.of_files({"m": ORIGINAL}).texts
    assert "concatenate" in texts and "axis" in texts and "'W'" in texts and "range" not in texts
    assert not {"both", "params", "total", "item"} & set(texts)
    assert "Module docstring." not in " ".join(texts) and "'A gate.'" not in texts


def test_a_file_with_a_syntax_error_keeps_the_tokens_read_before_it():
    broken = ORIGINAL + "\ndef broken(:\n    return (\n"
    assert _grams(ORIGINAL) <= _grams(broken) | _grams(ORIGINAL)
    assert len(tokens.of_files({"m": broken}).texts) > len(tokens.of_files({"m": ORIGINAL}).texts) // 2


def test_winnowing_keeps_a_fingerprint_of_every_long_enough_shared_run():
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, size=500, dtype=np.uint64)
    chosen = set(prints.winnow(hashes).tolist())
    for start in range(len(hashes) - prints.WINDOW + 1):
        assert chosen & set(range(start, start + prints.WINDOW))  # every window holds a chosen one
    assert len(chosen) < 0.6 * len(hashes)


def test_the_same_wrong_values_give_one_digest_work_that_needs_none_gives_none():
    rng = np.random.default_rng(1)
    value = rng.normal(size=(4, 5))
    args = [rng.normal(size=(4, 5))]
    assert likeness.digest(value, args) == likeness.digest(value * (1 + 1e-15), args)  # last bits of another order
    assert likeness.digest(value, args) != likeness.digest(value * 1.01, args)
    assert likeness.digest((value, {"c": value}), args) != likeness.digest(value, args)
    assert likeness.digest(np.zeros((4, 5)), args) == ""  # a constant: what anyone doing nothing returns
    assert likeness.digest(args[0].copy(), args) == ""  # an echo of an input
    odd = {"\ud800key": "value \udc80", "a": np.array(["\ud800"]), "b": np.array([object()])}
    assert len(likeness.digest(odd, args)) == likeness.LENGTH  # whatever a student returns: never an error


def test_a_function_records_its_own_wrong_values_not_those_of_a_wrong_part(tmp_path, assignment):
    folder = write_submission(tmp_path / "s", {
        "activations": ("    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                        "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) * 0.9")})
    results = grading.grade(assignment, folder, grading.Request(quiz="none"))
    wrong = {t.function for t in results.tests if t.wrong_output}
    failed = {t.function for t in results.tests if not t.passed and t.kind.value == "values"}
    assert "activations.sigmoid" in wrong
    assert "lstm.forget_gate" not in wrong  # right with the grader's sigmoid: the part's mistake, not its own
    assert wrong <= failed
    digests = {t.wrong_output for t in results.tests if t.function == "activations.sigmoid" and t.wrong_output}
    assert len(digests) >= 2  # one per case: different inputs, different values


def test_sources_are_read_where_grading_finds_them_and_links_are_never_followed(tmp_path):
    nested = write_submission(tmp_path / "a" / "homework", {})
    found = submission.sources(tmp_path / "a", ["lstm", "gru", "nowhere"])
    assert set(found) == {"lstm", "gru"} and "def forget_gate" in found["lstm"]
    (nested / "gru.py").unlink()
    secret = tmp_path / "secret.txt"
    secret.write_text("the answer key")
    os.symlink(secret, nested / "gru.py")
    assert "gru" not in submission.sources(tmp_path / "a", ["gru"])
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("folder/lstm.py", b"x = 1\n\xff\n")
    assert submission.sources(archive, ["lstm"]) == {"lstm": "x = 1\n\ufffd\n"}


def _read(source: str) -> dict[str, str]:
    return submission.sources(Path(source), ["lstm", "gru", "activations", "rnn", "gradients", "training"])


def test_the_report_escapes_what_submissions_hold_and_its_csv_parses(tmp_path):
    hostile = '    concat = np.concatenate([h_prev, x_t], axis=0)  # </pre><script>alert(1)</script>\n'
    changes = {"lstm": ("    concat = np.concatenate([h_prev, x_t], axis=0)\n    return sigmoid(params[\"Wf\"]",
                        hostile + "    return 1.0 * sigmoid(params[\"Wf\"] * 1.0")}
    for name in ("=cmd|calc", "<b>bold"):
        write_submission(tmp_path / "class" / name, changes)
    for n in range(4):  # the rest of the class: the reference, each with a line of its own
        own_line = ("    return np.tanh(", f"    return {n} + np.tanh(")
        write_submission(tmp_path / "class" / f"other{n}", {"gru": own_line})
    boilerplate = compare.Boilerplate.of(_read(str(COURSE / "exercises")), _read(str(COURSE / "solutions")))
    sources = {p.name: str(p) for p in sorted((tmp_path / "class").iterdir())}
    compared = compare.compare(sources, _read, boilerplate, options=compare.Options(threshold=0.0))
    assert [(p.first, p.second) for p in compared.pairs] == [("<b>bold", "=cmd|calc")]
    regions = compared.pairs[0].regions
    assert regions, "the pair's matching code is lined up"
    places = [(r.first, r.first_lines[0][0]) for r in regions]
    assert places == sorted(places), "in the order of the files"
    assert any("</pre><script>" in text for r in regions for _, text in r.first_lines)  # the line itself, shown
    page = report.page(compared, "T", Renderer())
    assert "<script>" not in page and "<b>bold" not in page and "&lt;b&gt;bold" in page
    rows = list(csv.DictReader(io.StringIO(report.csv_text(compared))))
    assert rows[0]["second"] == "'=cmd|calc" and rows[0]["kind"] == "pair"  # a formula is not run


def test_a_hostile_file_stays_cheap_and_is_still_compared(tmp_path):
    """Huge literals, a million-digit number, deep nesting and bytes that are not UTF-8: tokens all the same."""
    hostile = ("x = " + "9" * 900_000 + "\n" + "y = '" + "a" * 50_000 + "'\n" + "z = " + "(" * 300 + "1" + ")" * 300
               + "\n" + ORIGINAL)
    toks = tokens.of_files({"m": hostile, "n": "\udcff def broken(:\n"})
    assert "9" * 900_000 in toks.texts  # kept as written, never read as a number (slow where Python has no limit)
    assert _grams(ORIGINAL) <= set(prints.grams(toks).hashes.tolist())


def test_the_candidate_pairs_are_each_ones_top_partners_by_rare_fingerprints_shared():
    """The blocked count against a count of every pair: each submission's PARTNERS others sharing the most
    fingerprints held by 2..rare submissions, whatever the block size."""
    from itertools import combinations

    rng = np.random.default_rng(7)
    students, rare = 60, 6
    printed = [compare.Printed(f"s{n}", np.unique(rng.integers(0, 400, size=60).astype(np.uint64)), 0, 0)
               for n in range(students)]
    hashes = np.concatenate([p.prints for p in printed])
    owners = np.concatenate([np.full(len(p.prints), n, np.int32) for n, p in enumerate(printed)])
    order = np.lexsort((owners, hashes))
    hashes, owners = hashes[order], owners[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    counts = np.diff(np.r_[starts, len(hashes)])
    every = np.zeros((students, students), int)
    for start, count in zip(starts, counts):
        if 2 <= count <= rare:
            for a, b in combinations(owners[start:start + count], 2):
                every[a, b] += 1
                every[b, a] += 1
    expected = set()
    for me in range(students):
        for other in np.argsort(-every[me], kind="stable")[:compare.PARTNERS]:
            if every[me, other]:
                expected.add((min(me, int(other)), max(me, int(other))))
    for cells in (compare.CELLS, students * 7):  # one block, and blocks of 7 submissions
        original, compare.CELLS = compare.CELLS, cells
        try:
            assert compare._candidates(owners, starts, counts, rare, students) == expected
        finally:
            compare.CELLS = original


def test_a_class_with_no_code_of_its_own_pairs_no_one(tmp_path):
    """Copies of the reference and untouched stubs: nothing beyond the boilerplate, no pair, no error."""
    for n in range(3):
        write_submission(tmp_path / f"ref{n}", {})
    boilerplate = compare.Boilerplate.of(_read(str(COURSE / "exercises")), _read(str(COURSE / "solutions")))
    sources = {f"ref{n}": str(tmp_path / f"ref{n}") for n in range(3)} | {"stubs": str(COURSE / "exercises")}
    compared = compare.compare(sources, _read, boilerplate, options=compare.Options(threshold=0.0))
    assert compared.pairs == [] and [c.student for c in compared.close] == ["ref0", "ref1", "ref2"]
