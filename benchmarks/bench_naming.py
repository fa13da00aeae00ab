"""Measure how well feedback names students' mistakes, at grading and at home, over every corpus.

The corpora are the tests' own (tests/mistakes.yaml, bugs_unseen.yaml,
unnamed.yaml, home_mistakes.yaml): each entry is the reference of the tests'
course with one realistic mistake. CI grades each corpus on one side only
(grading, or, for home_mistakes.yaml, both); this script grades every entry
of every corpus on both sides, the grader (reference and hidden cases) and
the student release's own check (recorded answers, no reference), and
prints, per corpus:

- "lost exactly": the entries that lose points exactly on their functions;
- "named": the entries whose feedback says what the entry requires (its
  catalog mistake and no other, its phrase; for unnamed.yaml, no known
  mistake at all), at grading and at home;
- "home = grading": the entries whose every public test scores the same at
  home as at grading;

then the entries that miss, so a new fix can become a case. It is held out of
CI (it grades each entry twice, over a hundred submissions) and measures;
it asserts nothing.
Usage: python benchmarks/bench_naming.py [--corpus NAME ...]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

from conftest import COURSE, build_release, write_submission  # noqa: E402  (the tests' course and helpers)
from gatelab import grading  # noqa: E402
from gatelab.course import config  # noqa: E402

CORPORA = ("mistakes", "bugs_unseen", "unnamed", "home_mistakes")


@dataclass
class Tally:
    """One corpus's counts, and the entries that missed (with why)."""

    entries: int = 0
    lost_exactly: int = 0
    named_grading: int = 0
    named_home: int = 0
    agree: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)


def _changes(entry: dict[str, Any]) -> dict[str, Any]:
    if "changes" in entry:
        return {entry["module"]: [(c["replace"], c["with"]) for c in entry["changes"]]}
    return {entry["module"]: (entry["replace"], entry["with"])}


def _named(corpus: str, entry: dict[str, Any], results: Any, side: str) -> bool:
    """Whether ``results`` say what ``entry`` requires on ``side`` (grading or home)."""
    said = "\n".join(t.feedback for t in results.tests if t.feedback)
    mistakes = sorted({m for t in results.tests if not t.passed for m in t.mistakes})
    if corpus == "unnamed":
        return not mistakes and "known mistake" not in said
    if "named" in entry:
        return mistakes == [entry["named"]]
    phrases = [entry[k] for k in ("says", f"{side}_says") if k in entry]
    return all(p in said for p in phrases) and not ("never" in entry and entry["never"] in said)


def measure(corpus: str, entries: dict[str, Any], full: Any, home: Any, work: Path) -> Tally:
    tally = Tally(entries=len(entries))
    start = time.perf_counter()
    for name, entry in sorted(entries.items()):
        folder = write_submission(work / corpus / name, _changes(entry))
        graded = grading.grade(full, folder, grading.Request(quiz="none"))
        at_home = grading.grade(home, folder, grading.Request(quiz="none"))
        lost = sorted({t.function for t in graded.tests if not t.passed})
        public = {t.name: t.score for t in graded.tests if t.visibility == "visible"}
        home_scores = {t.name: t.score for t in at_home.tests if t.name in public}
        checks = {"lost exactly": lost == sorted(entry["affected"]),
                  "named at grading": _named(corpus, entry, graded, "grading"),
                  "named at home": _named(corpus, entry, at_home, "home"),
                  "home = grading": home_scores == public}
        tally.lost_exactly += checks["lost exactly"]
        tally.named_grading += checks["named at grading"]
        tally.named_home += checks["named at home"]
        tally.agree += checks["home = grading"]
        missed = [k for k, ok in checks.items() if not ok]
        if missed:
            tally.misses.append(f"{corpus}/{name}: not {', not '.join(missed)}")
    tally.seconds = time.perf_counter() - start
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="*", choices=CORPORA, default=list(CORPORA))
    chosen = parser.parse_args().corpus
    full = config.load(COURSE)
    with tempfile.TemporaryDirectory(prefix="gatelab-naming-") as tmp:
        home = config.load(build_release(Path(tmp) / "release") / "student")
        tallies = {c: measure(c, yaml.safe_load((TESTS / f"{c}.yaml").read_text()) or {}, full, home,
                              Path(tmp) / "work") for c in chosen}
    print(f"{'corpus':<16}{'entries':>8}{'lost exactly':>14}{'named (grading)':>17}{'named (home)':>14}"
          f"{'home = grading':>16}{'seconds':>9}")
    for corpus, t in tallies.items():
        print(f"{corpus:<16}{t.entries:>8}{t.lost_exactly:>14}{t.named_grading:>17}{t.named_home:>14}"
              f"{t.agree:>16}{t.seconds:>9.1f}")
    misses = [m for t in tallies.values() for m in t.misses]
    print(f"\n{len(misses)} entries miss something" + (":" if misses else "."))
    for miss in misses:
        print(f"  {miss}")


if __name__ == "__main__":
    main()
