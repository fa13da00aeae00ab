"""Starting a worker process, on the two paths an OS offers: ``posix`` (its pipes handed over by descriptor
number, forked from a warm template where there is one) or ``portable`` (its standard streams as its pipes:
what every OS has); and stopping it with all it started. The environment it starts with is scrubbed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatelab.errors import UsageError

_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from gatelab.grading.worker import main; main()"
# The grader's environment variables a worker may see: what an interpreter needs to start and to
# format text, nothing else (no tokens, keys, CI variables). HOME and TMPDIR point at its own folder.
WORKER_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "LD_LIBRARY_PATH",
              "SYSTEMROOT", "WINDIR")
_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def worker_environment(home: str) -> dict[str, str]:
    """The scrubbed environment a worker starts with."""
    env = {name: os.environ[name] for name in WORKER_ENV if name in os.environ}
    env.update(_THREADS, HOME=home, TMPDIR=home, TMP=home, TEMP=home)
    return env


def sandbox_mode() -> str:
    """How workers are started: ``posix`` (descriptors handed over, pipes waited on with ``select``, forked
    from a template where there is one) or ``portable`` (the worker's standard streams as its pipes, waited
    on by threads: what every OS has). Windows is always portable; ``GATELAB_SANDBOX=portable`` forces it
    elsewhere (``auto``, the default, picks)."""
    asked = os.environ.get("GATELAB_SANDBOX", "auto").strip().lower() or "auto"
    if asked not in ("auto", "portable"):
        raise UsageError(f"GATELAB_SANDBOX={asked!r} is not known: use auto (the default) or portable")
    return "portable" if asked == "portable" or sys.platform == "win32" else "posix"


@dataclass
class Launched:
    """A started worker: its process, the file its prints go to and the one its stacks go to (the grader's
    handles), and, on the portable path, the grader's folder holding them (``files``)."""

    process: Any
    output: Any
    stacks: Any
    files: tempfile.TemporaryDirectory[str] | None = None


def launch(options: list[str], cwd: str, child_in: int, child_out: int, template: Any = None) -> Launched:
    """Start a worker with ``options`` in its own folder ``cwd``, reading requests from ``child_in`` and writing
    replies to ``child_out``, on this OS's path (see :func:`sandbox_mode`)."""
    if sandbox_mode() == "portable":
        return _start_portable(options, cwd, child_in, child_out)
    return _start_posix(options, cwd, child_in, child_out, template)


def _start_posix(options: list[str], cwd: str, child_in: int, child_out: int, template: Any) -> Launched:
    """Fork the worker from ``template`` (if it is alive) or start it, its pipes handed over by number; its
    prints and stacks go to files it shares with the grader (read with ``pread``, never moved)."""
    output, stacks = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    process = None
    if template is not None and template.alive():
        try:
            process = template.fork([*options, "--cwd", cwd], [child_in, child_out, output.fileno(), stacks.fileno()])
        except OSError:  # the template stopped answering: this worker is started on its own
            process = None
    if process is None:
        process = subprocess.Popen(
            [*interpreter(), *options, "--in-fd", str(child_in), "--out-fd", str(child_out),
             "--stack-fd", str(stacks.fileno())],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            pass_fds=(child_in, child_out, stacks.fileno()), cwd=cwd,
            env=worker_environment(cwd), **new_process_group())
    return Launched(process, output, stacks)


def _start_portable(options: list[str], cwd: str, child_in: int, child_out: int) -> Launched:
    """Start the worker with its pipes as its standard input and output; it moves them aside and sends what it
    prints to the output file (named, in a folder of the grader's), which the grader reads through a handle of
    its own."""
    files = tempfile.TemporaryDirectory(prefix="gatelab-io-")
    output, stacks = (os.path.join(files.name, name) for name in ("output", "stacks"))
    with open(output, "ab") as early, open(stacks, "ab"):  # append-only: the worker's writes go to the end
        process = subprocess.Popen(
            [*interpreter(), *options, "--stdio", "--output-file", output, "--stack-file", stacks],
            stdin=child_in, stdout=child_out, stderr=early, cwd=cwd,
            env=worker_environment(cwd), **new_process_group())
    return Launched(process, open(output, "rb"), open(stacks, "rb"), files)  # noqa: SIM115 - closed by its owner


def interpreter() -> list[str]:
    """The command line that starts a worker on its own (isolated mode, no bytecode written, unbuffered)."""
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the gatelab package
    return [sys.executable, "-I", "-B", "-u", "-c", _BOOTSTRAP.format(root=root)]


def new_process_group() -> dict[str, Any]:
    """Popen's arguments that put a worker in a process group of its own, so that all it started dies with it."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}


def kill_tree(process: Any) -> None:
    """Kill a worker and every process it started: its process group (POSIX), its tree (Windows)."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(process.pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            pass
    elif sys.platform == "win32":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True, check=False)
    process.kill()
