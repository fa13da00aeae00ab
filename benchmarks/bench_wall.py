"""What the kernel's wall costs per worker: a worker's start and first reply, with every layer and with none.

For each launch path (forked from the warm template, started on its own),
the median time from asking for a worker to its first reply (importing a
one-line module and calling it), once with the wall this machine allows
(namespaces, a user per submission, Landlock, seccomp) and once with no
layer at all; the floor beside it, measured in the same run, is the path's
bare cost: a template's ``os.fork`` and reply, or ``python -c "import numpy"``.

Usage: python benchmarks/bench_wall.py [--runs 30]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from gatelab.course.limits import Limits  # noqa: E402
from gatelab.grading import forkserver, isolation  # noqa: E402
from gatelab.grading.sandbox import Sandbox  # noqa: E402


def first_reply(folder: Path, wall: isolation.Wall, template: object, runs: int) -> float:
    """Median seconds from a new sandbox to its first call's reply."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        box = Sandbox(folder, Limits(), template=template)
        box.wall = wall
        with box:
            outcome = box.call("m", "f", [])
        assert outcome.ok, outcome
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def floor_started(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    full = isolation.wall()
    bare = isolation.Wall(root=full.root)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "m.py").write_text("def f():\n    return 1\n")
        rows = []
        os.environ["GATELAB_SANDBOX"] = "auto"
        template = forkserver.start()
        try:
            rows.append(("forked", first_reply(Path(folder), bare, template, runs),
                         first_reply(Path(folder), full, template, runs)))
        finally:
            if template is not None:
                template.close()
        rows.append(("started", first_reply(Path(folder), bare, None, max(runs // 3, 5)),
                     first_reply(Path(folder), full, None, max(runs // 3, 5))))
    floor = floor_started(max(runs // 3, 5))
    print(f"wall here: {full.summary()}")
    print("| path | no layer (ms) | every layer (ms) | the wall's cost (ms) | floor: python -c 'import numpy' (ms) |")
    print("|---|---|---|---|---|")
    for path, without, with_wall in rows:
        print(f"| {path} | {without * 1000:.1f} | {with_wall * 1000:.1f} | {(with_wall - without) * 1000:+.1f} | "
              f"{floor * 1000:.1f} |")


if __name__ == "__main__":
    main()
