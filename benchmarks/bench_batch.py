"""Time and memory of `grade batch` as the class grows, and of `grade check` as sequences grow, beside the floor.

The floor, `python -c "import numpy"`, is measured in the same run. A class is
generated from the shipped reference: correct copies, the realistic bugs of
tests/mistakes.yaml, and hostile submissions of tests/hostile (one in ten; the
hanging ones stay rare, one per hundred, as in a real class). Peak memory is the
largest resident size of any one process of the run (the batch's own process or
one of its children), as the kernel reports it (ru_maxrss), so it shows whether
memory grows with the class, not the sum over processes.

The last batch row is no grading at all: the same submissions' calls made
in fresh forked workers, nothing judged or written, which bounds what any
grader keeping this isolation can do on this machine.

Usage: python benchmarks/bench_batch.py [--sizes 25 50 100 200] [--jobs 2] [--lengths 10 100 1000]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^\s*# (BEGIN|END) SOLUTION.*\n", re.M)
HANGING = {"hang_in_sigmoid", "infinite_loop", "hang_at_import", "slow_everywhere", "endless_recursion"}


def _write(folder: Path, changes: list[tuple[str, str, str]]) -> None:
    """The reference without its markers, with each (module, old, new) replacement made."""
    folder.mkdir(parents=True)
    for source in (ROOT / "solutions").glob("*.py"):
        text = MARKER.sub("", source.read_text())
        for module, old, new in changes:
            if module == source.stem and old in text:
                text = text.replace(old, new, 1)
        (folder / source.name).write_text(text)


def _hostile() -> tuple[list[list[tuple[str, str, str]]], list[list[tuple[str, str, str]]]]:
    """The hostile submissions' changes: (quick ones, hanging ones)."""
    quick, hanging = [], []
    for expect in sorted((ROOT / "tests" / "hostile").glob("*/expect.yaml")):
        entry = yaml.safe_load(expect.read_text())
        changes = [(r["module"], r["old"], r["new"]) for r in entry.get("replace", []) if "old" in r]
        if changes:
            (hanging if expect.parent.name in HANGING else quick).append(changes)
    return quick, hanging


def make_class(folder: Path, size: int) -> None:
    """``size`` submissions: one hostile in ten (hanging ones one per hundred), buggy half the rest, correct."""
    bugs = yaml.safe_load((ROOT / "tests" / "mistakes.yaml").read_text())
    buggy = [[(e["module"], e["replace"], e["with"])] for e in bugs.values()]
    quick, hanging = _hostile()
    for n in range(size):
        if n % 100 == 99 and hanging:
            changes = hanging[(n // 100) % len(hanging)]
        elif n % 10 == 9 and quick:
            changes = quick[(n // 10) % len(quick)]
        elif n % 2:
            changes = buggy[n % len(buggy)]
        else:
            changes = []
        _write(folder / f"student{n:04d}", changes)


def _timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


_PROBE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
          "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
          "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")


def _measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds of ``command``, and the peak resident size in MB of its largest process: run from a probe
    process of its own, so the peak is this command's, not the largest of the whole benchmark."""
    out = subprocess.run([sys.executable, "-c", _PROBE, *command], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    return float(out[0]), float(out[1])


def _floor(runs: int = 5) -> float:
    return statistics.median(_timed([sys.executable, "-c", "import numpy"], ROOT) for _ in range(runs))


def batch_rows(sizes: list[int], jobs: int, work: Path) -> list[str]:
    rows = []
    for size in sizes:
        folder = work / f"class{size}"
        make_class(folder / "submissions", size)
        seconds, peak = _measured([sys.executable, "-m", "gatelab", "batch", str(folder / "submissions"),
                                   "--out", str(folder / "out"), "--jobs", str(jobs), "--assignment", str(ROOT)])
        rows.append(f"| batch of {size}, --jobs {jobs} | {seconds:.1f} | {size / seconds:.2f} | {peak:.0f} |")
    return rows


def _calls_only(folders: list[str]) -> float:
    """In one process: each submission in ``folders`` in two fresh workers forked from a warm template (public
    and hidden lanes), every contract call of the course made (all of a lane's sent together), nothing
    judged, nothing written: what isolation alone costs, whatever the grader does with the results. Returns
    the seconds taken by all but the first (which warms the process up)."""
    from gatelab.course import config
    from gatelab.grading import forkserver
    from gatelab.grading.run import forbidden, load_oracle
    from gatelab.grading.sandbox import HIDDEN, PUBLIC, Sandbox
    from gatelab.report.results import Results

    assignment = config.load(ROOT)
    oracle = load_oracle(assignment, Results(title="", submission=""))
    lanes: dict[str, list[tuple[str, str, list]]] = {PUBLIC: [], HIDDEN: []}
    for spec in assignment.tests:
        if spec.aspect == "values":
            fn = spec.function
            lanes[PUBLIC if spec.visibility == "visible" else HIDDEN].append(
                (fn.module, fn.name, oracle.inputs(fn.qualname, spec.case)))
    template = forkserver.start()
    try:
        for n, folder in enumerate(folders):
            if n == 1:
                start = time.perf_counter()
            with Sandbox(Path(folder), assignment.limits, forbid=forbidden(assignment), template=template) as box:
                for lane, calls in lanes.items():
                    box.start(lane)
                    box.call_many(calls, lane)
        return time.perf_counter() - start
    finally:
        if template is not None:
            template.close()


def isolation_row(size: int, jobs: int, work: Path) -> str:
    """The same isolation as a batch, without any grading: the bound on submissions/s with fresh workers."""
    from concurrent.futures import ProcessPoolExecutor

    folder = work / f"class{size}" / "submissions"
    if not folder.is_dir():
        make_class(folder, size)
    correct = [str(p) for n, p in enumerate(sorted(folder.iterdir())) if n % 2 == 0 and n % 10 != 9]
    shares = [correct[i::jobs] for i in range(jobs)]
    with ProcessPoolExecutor(jobs) as pool:
        seconds = max(pool.map(_calls_only, shares))  # the processes run side by side: the slower one sets it
    timed = sum(len(share) - 1 for share in shares)
    return (f"| isolation alone: {timed} correct submissions' calls in fresh workers, nothing judged, "
            f"{jobs} processes | {seconds:.1f} | {timed / seconds:.2f} | |")


def length_rows(lengths: list[int], work: Path, floor: float) -> list[str]:
    """`grade check rnn --all` on the reference, with one case whose sequences have each length."""
    rows = []
    for length in lengths:
        root = work / f"T{length}"
        shutil.copytree(ROOT / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__"))
        config = root / "grader" / "config.yaml"
        data = yaml.safe_load(config.read_text())
        data.update(solutions=str(ROOT / "solutions"), exercises=str(ROOT / "exercises"))
        data["cases"]["small"]["T"] = length
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        seconds, peak = _measured([sys.executable, "-m", "gatelab", "check", "rnn", "--all", "--submission",
                                   str(ROOT / "solutions"), "--assignment", str(root)])
        rows.append(f"| grade check rnn --all, T = {length} | {seconds:.2f} | {seconds / floor:.1f} x floor | "
                    f"{peak:.0f} |")
    return rows


def main() -> None:
    os.environ["GATELAB_SERVER"] = "0"  # every command here does all its own work (bench_check times the server)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 100, 1000])
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gatelab-bench-") as tmp:
        floor = _floor()
        print(f'floor: python -c "import numpy" = {floor:.3f} s (median of 5, this run)\n')
        print("| run | seconds | submissions/s | peak MB (largest process) |")
        print("|---|---|---|---|")
        for row in batch_rows(options.sizes, options.jobs, Path(tmp)):
            print(row, flush=True)
        print(isolation_row(max(options.sizes), options.jobs, Path(tmp)), flush=True)
        print("\n| run | seconds | ratio | peak MB (largest process) |")
        print("|---|---|---|---|")
        for row in length_rows(options.lengths, Path(tmp), floor):
            print(row, flush=True)


if __name__ == "__main__":
    main()
