"""Time `grade check --watch` from a save to its feedback, beside the floor, `python -c "import numpy"`.

In one run: the floor, a cold `grade check lstm` (a new process), and the
warm regrade: `grade check lstm --watch` runs on a copy of the reference,
lstm.py is saved (alternately right and with a tanh forget gate, so the
feedback changes each time), and the clock stops when the new score line
arrives. The table shows medians and the ratio to the floor.
Usage: python benchmarks/bench_watch.py [--runs N]
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

ROOT = Path(__file__).resolve().parent.parent
RIGHT = 'return sigmoid(params["Wf"] @ concat + params["bf"])'
WRONG = 'return np.tanh(params["Wf"] @ concat + params["bf"])'


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def read_until(fd: int, pattern: str, seen: bytearray, timeout: float = 60.0) -> str:
    """Read the watcher's output until ``pattern`` appears in what came after ``seen``; that text."""
    deadline = time.monotonic() + timeout
    start = len(seen)
    while not re.search(pattern, seen[start:].decode("utf-8", "replace")):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {pattern!r} from the watcher: {seen[start:].decode('utf-8', 'replace')}")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise RuntimeError(f"the watcher stopped: {seen.decode('utf-8', 'replace')[-2000:]}")
        seen.extend(chunk)
    return seen[start:].decode("utf-8", "replace")


def warm_saves(folder: Path, runs: int) -> tuple[list[float], list[float]]:
    """Save-to-feedback times, and the regrade's own time as its header reports it."""
    watcher = subprocess.Popen([sys.executable, "-m", "gatelab", "check", "lstm", "--watch", "--submission",
                                str(folder)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert watcher.stdout is not None
    fd, seen = watcher.stdout.fileno(), bytearray()
    saves, regrades = [], []
    try:
        read_until(fd, "for changes", seen)
        lstm = folder / "lstm.py"
        for n in range(runs):
            time.sleep(1.0)  # a student types between saves: the next worker is ready by then
            text = lstm.read_text()
            lstm.write_text(text.replace(RIGHT, WRONG) if n % 2 == 0 else text.replace(WRONG, RIGHT))
            start = time.perf_counter()
            shown = read_until(fd, r"Score: \S+", seen)
            saves.append(time.perf_counter() - start)
            regrades.append(float(re.search(r"in (\d+\.\d+) s", shown).group(1)))  # type: ignore[union-attr]
    finally:
        watcher.terminate()
        watcher.wait()
    return saves, regrades


def main() -> None:
    os.environ["GATELAB_SERVER"] = "0"  # every command here does all its own work (bench_check times the server)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "work"
        shutil.copytree(ROOT / "solutions", folder)
        floor, cold = [], []
        for _ in range(runs):
            floor.append(timed([sys.executable, "-c", "import numpy"], ROOT))
            cold.append(timed([sys.executable, "-m", "gatelab", "check", "lstm", "--submission", str(folder)], ROOT))
        saves, regrades = warm_saves(folder, runs)
        floor.append(timed([sys.executable, "-c", "import numpy"], ROOT))  # the floor after the watch too
    base = statistics.median(floor)
    rows = [('floor: python -c "import numpy"', floor), ("grade check lstm (cold, a new process)", cold),
            ("grade check lstm --watch: save to feedback (warm)", saves),
            ("  of which the regrade itself (its header)", regrades)]
    print(f"| command | median of {runs} (s) | x floor |")
    print("|---|---|---|")
    for name, samples in rows:
        median = statistics.median(samples)
        print(f"| {name} | {median:.3f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
