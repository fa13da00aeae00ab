"""What the quiz lock (format 2) costs a student who checks, and one who brute-forces a ``marked`` lock.

With ``local_feedback: marked`` a numeric answer is locked as its cell on a
grid as fine as its tolerance (``gatelab.quiz.lock.bucket``), so the cells can
be tried in turn, each try one PBKDF2 derivation. This measures the floor, one
derivation at the lock's iterations, in this run; counts, for every variant of
every numeric question of the shipped bank, how many cells a search walking
outwards from zero tries before the right one; and prints the time that takes
at the floor, beside what one `grade check` of the whole marked quiz costs.
An ``unmarked`` lock (the default) has nothing to try. Usage:
python benchmarks/bench_lock.py
"""
from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from gatelab.quiz import bank as quiz
from gatelab.quiz import seal
from gatelab.quiz.lock import bucket, canonical

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 10_000_000  # cells counted per variant before giving up


def _cells(kind: str, amount: float) -> Iterator[str]:
    """Every cell of the grid, nearest to zero first, as the canonical form the lock derives keys from."""
    if kind == "abs" and amount > 0:
        for n in itertools.count():
            yield from ([f"num:{n}"] if n == 0 else [f"num:{n}", f"num:{-n}"])
    elif kind == "rel" and amount > 0:
        yield "num:0"
        for n in itertools.count():
            yield from ([f"num:+{n}", f"num:-{n}"] if n == 0 else
                        [f"num:+{n}", f"num:+{-n}", f"num:-{n}", f"num:-{-n}"])
    else:  # an exact answer: the integers, then numbers with three decimals
        for n in itertools.count():
            for value in sorted({n, -n, n / 1000, -n / 1000}):
                yield f"num:{float(value)!r}"


def tries(question: quiz.Question, templates: quiz.Templates) -> list[int]:
    """Cells tried before each variant's right one (LIMIT when not reached)."""
    counts = []
    for values in question.all_values():
        target = f"num:{bucket(templates.number(question.answer, values), question.tolerance)}"
        kind, amount = question.tolerance
        found = next((n for n, cell in enumerate(itertools.islice(_cells(kind, amount), LIMIT)) if cell == target),
                     LIMIT)
        counts.append(found + 1)
    return counts


def floor_seconds(samples: int = 200) -> float:
    """One key derivation, as a check or a guess pays it (median)."""
    times = []
    for n in range(samples):
        start = time.perf_counter()
        seal.derive("0" * 32, "question", "{}", f"num:{n}")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def derivations_per_check(bank: quiz.Bank, templates: quiz.Templates) -> int:
    """Keys one `grade check` of the whole marked quiz derives for right answers (numeric: three cells)."""
    from gatelab.quiz.marking import parse, right_answer

    total = 0
    for question in bank.questions:
        shown = quiz.variant(question, "s1")
        answer = parse(question, shown, right_answer(shown, templates))
        total += len(canonical(question, answer)) + (len(answer) if question.type == "multiple" else 0)
    return total


def main() -> None:
    templates = quiz.Templates()
    bank = quiz.load(ROOT / "grader" / "quiz")
    floor = floor_seconds()
    per_check = derivations_per_check(bank, templates)
    print(f"floor: one key derivation ({seal.ITERATIONS} PBKDF2-HMAC-SHA256 iterations) takes {floor * 1e3:.2f} ms")
    print(f"a grade check of the whole marked quiz ({len(bank.questions)} questions) derives {per_check} keys: "
          f"{per_check * floor:.2f} s the first time, nothing again while a check server keeps them")
    print("| question | tolerance | variants | cells to the answer (most) | seconds, worst variant | seconds, all |")
    print("|---|---|---|---|---|---|")
    total = 0.0
    numeric = [q for q in bank.questions if q.type == "numeric"]
    for question in numeric:
        counts = tries(question, templates)
        total += sum(counts) * floor
        kind, amount = question.tolerance
        print(f"| {question.id} | {kind} {amount:g} | {len(counts)} | {max(counts)} | {max(counts) * floor:.1f} | "
              f"{sum(counts) * floor:.1f} |")
    print(f"| all {len(numeric)} numeric questions | | | | | {total:.0f} ({total / 3600:.1f} h on one core) |")


if __name__ == "__main__":
    main()
