"""How long the locked question bank holds against a student who brute-forces its numeric answers.

A numeric answer is locked as a hash of its cell on a grid as fine as its
tolerance (see ``gatelab.quiz.lock.bucket``), so every cell can be tried in turn.
This walks outwards from zero through the cells of each numeric question in
``exercises/quiz.lock.yaml``, for every variant, and reports how long it takes
to find the locked cell, beside the floor: the time of one honest check of
one answer, measured in the same run. Usage: python benchmarks/bench_lock.py
"""
from __future__ import annotations

import itertools
import json
import statistics
import time
from pathlib import Path

from gatelab.quiz.lock import LOCK_NAME, load_locked

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 2_000_000  # cells tried per variant before giving up


def _cells(kind: str, amount: float):
    """Every cell of the grid, nearest to zero first, as the canonical form the lock hashes."""
    if kind == "abs" and amount > 0:
        for n in itertools.count():
            yield from ([f"num:{n}"] if n == 0 else [f"num:{n}", f"num:{-n}"])
    elif kind == "rel" and amount > 0:
        yield "num:0"
        for n in itertools.count():
            yield from ([f"num:+{n}", f"num:-{n}"] if n == 0 else
                        [f"num:+{n}", f"num:+{-n}", f"num:-{n}", f"num:-{-n}"])
    else:  # an exact answer: try the integers, then numbers with three decimals
        for n in itertools.count():
            for value in {n, -n, n / 1000, -n / 1000}:
                yield f"num:{float(value)!r}"


def brute_force(locked, question_id: str) -> tuple[int, int, float]:
    """(variants found, variants, seconds) for one numeric question."""
    record = locked.records[question_id]
    kind, amount = record["tolerance"]
    found, started = 0, time.perf_counter()
    for key, entry in record["variants"].items():
        values = json.loads(key)
        checks = set(entry["checks"])
        for cell in itertools.islice(_cells(kind, float(amount)), LIMIT):
            if locked.lock.check(locked.lock.material(question_id, values, cell)) in checks:
                found += 1
                break
    return found, len(record["variants"]), time.perf_counter() - started


def one_check_seconds(locked, question_id: str) -> float:
    record = locked.records[question_id]
    key = next(iter(record["variants"]))
    values = json.loads(key)
    samples = []
    for _ in range(2000):
        start = time.perf_counter()
        locked.lock.check(locked.lock.material(question_id, values, "num:42"))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    locked = load_locked(ROOT / "exercises" / LOCK_NAME)
    numeric = [q.id for q in locked.bank.questions if q.type == "numeric"]
    floor = one_check_seconds(locked, numeric[0])
    print(f"floor: one check of one answer takes {floor * 1e6:.1f} µs")
    print("| question | tolerance | variants found | seconds for all variants |")
    print("|---|---|---|---|")
    total = 0.0
    for question_id in numeric:
        found, variants, seconds = brute_force(locked, question_id)
        total += seconds
        kind, amount = locked.records[question_id]["tolerance"]
        print(f"| {question_id} | {kind} {amount:g} | {found}/{variants} | {seconds:.3f} |")
    print(f"| all {len(numeric)} numeric questions | | | {total:.2f} |")


if __name__ == "__main__":
    main()
