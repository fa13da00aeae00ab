"""Time `grade check` on the full assignment beside the floor, `python -c "import numpy"`.

Both are measured in the same run, interleaved, and the table shows medians
and the ratio to the floor. Commands run with bytecode caching on
(PYTHONDONTWRITEBYTECODE unset), as after `pip install`, which compiles every
module; the student-release row builds a release first and checks in its
exercises folder, the path a student's `grade check` really takes (locked
bank, recorded answers, no reference). Cold rows run with GATELAB_SERVER=0
(a new process does everything); the "served" rows are the same commands
answered by the check server (`gatelab.server`), started by an untimed first
check, as a student's second and later checks are.
Usage: python benchmarks/bench_check.py [--runs N]
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
COMMANDS = {
    'floor: python -c "import numpy"': [sys.executable, "-c", "import numpy"],
    "grade check --all (the reference: every test and the quiz)": [sys.executable, "-m", "gatelab", "check", "--all",
                                                "--submission", "solutions"],
    "grade check (stubs, public tests)": [sys.executable, "-m", "gatelab", "check"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="gatelab-bench-") as tmp, \
            tempfile.TemporaryDirectory(prefix="gl-") as runtime:
        cold = {**base, "GATELAB_SERVER": "0"}
        served = {**base, "GATELAB_SERVER": "1", "XDG_RUNTIME_DIR": runtime}
        subprocess.run([sys.executable, "-m", "gatelab", "release", "--out", tmp], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, env=cold)
        release = Path(tmp) / "student" / "exercises"
        student = "grade check in the student release (stubs, locked quiz)"
        commands = {**COMMANDS, student: [sys.executable, "-m", "gatelab", "check"]}
        for name in ("grade check --all (the reference: every test and the quiz)", "grade check (stubs, public tests)",
                     student):
            commands[f"{name}, served"] = commands[name]
        where = {name: release if name.startswith(student) else ROOT for name in commands}
        env = {name: served if name.endswith(", served") else cold for name in commands}
        for name, command in commands.items():  # once untimed: caches (pyc, compiled templates), the server
            subprocess.run(command, cwd=where[name], stdout=subprocess.DEVNULL, env=env[name])
        for name, command in commands.items():  # the server has started, and kept each assignment warm once
            subprocess.run(command, cwd=where[name], stdout=subprocess.DEVNULL, env=env[name])
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, cwd=where[name], check=True, stdout=subprocess.DEVNULL, env=env[name])
                times[name].append(time.perf_counter() - start)
        subprocess.run([sys.executable, "-m", "gatelab", "server", "stop"], env=served, stdout=subprocess.DEVNULL)
    floor = statistics.median(next(iter(times.values())))
    print(f"| command | median of {runs} (s) | x floor |")
    print("|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"| {name} | {median:.3f} | {median / floor:.1f} |")


if __name__ == "__main__":
    main()
