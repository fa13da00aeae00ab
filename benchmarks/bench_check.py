"""Time `grade check` on the full assignment beside the floor, `python -c "import numpy"`.

Both are measured in the same run, interleaved, and the table shows medians
and the ratio to the floor. Usage: python benchmarks/bench_check.py [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    'floor: python -c "import numpy"': [sys.executable, "-c", "import numpy"],
    "grade check --all (reference: 140 tests, 67 questions)": [sys.executable, "-m", "gatelab", "check", "--all",
                                                "--submission", "solutions"],
    "grade check (stubs, public tests)": [sys.executable, "-m", "gatelab", "check"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    floor = statistics.median(next(iter(times.values())))
    print(f"| command | median of {runs} (s) | x floor |")
    print("|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"| {name} | {median:.3f} | {median / floor:.1f} |")


if __name__ == "__main__":
    main()
