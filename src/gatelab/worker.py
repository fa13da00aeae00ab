"""The student side: a subprocess that imports a submission and runs calls.

It reads request frames from one pipe and writes outcome frames to another
(see ``wire``). It never judges anything and imports no grader code beyond
the wire format: whatever it reports is data for the trusted side to check.
Its stdout and stderr go to a file the grader reads, so nothing a student
prints can be mistaken for a result.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gatelab import wire

_BLOCKED_EVENTS = {
    "subprocess.Popen": "start another program",
    "os.system": "run a shell command",
    "os.exec": "replace the process",
    "os.posix_spawn": "start another program",
    "os.spawn": "start another program",
    "os.fork": "fork the process",
    "os.forkpty": "fork the process",
    "os.kill": "send signals to processes",
    "os.killpg": "send signals to processes",
    "socket.connect": "open network connections",
    "socket.bind": "open network connections",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit_hook(forbidden: tuple[str, ...]):
    """An audit hook refusing what a gate equation never needs: processes, sockets, file writes.

    Defence in depth only (ctypes can get around it); the real boundary is
    the process and its limits.
    """

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in _BLOCKED_EVENTS:
            raise PermissionError(f"grading does not allow code to {_BLOCKED_EVENTS[event]} ({event})")
        if event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path, mode, flags = (tuple(args) + (None, None))[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing and os.fsdecode(path) != os.devnull:
            raise PermissionError(f"grading does not allow writing files ({os.fsdecode(path)})")
        real = os.path.realpath(os.fsdecode(path))
        if any(real == root or real.startswith(root + os.sep) for root in forbidden):
            raise PermissionError(f"grading does not allow reading {os.fsdecode(path)}")

    return hook


def _limit_memory(megabytes: int) -> None:
    """Cap the address space at what is mapped now plus ``megabytes``."""
    try:
        import resource
    except ImportError:  # not on POSIX: no cap
        return
    mapped = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                mapped = int(line.split()[1]) * 1024
    except OSError:
        pass
    cap = mapped + megabytes * 1024 * 1024
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        limit = getattr(resource, name, None)
        if limit is not None:
            try:
                resource.setrlimit(limit, (cap, cap))
            except (ValueError, OSError):
                pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _limit_output(megabytes: int) -> None:
    try:
        import resource

        size = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    except (ImportError, ValueError, OSError):
        pass


def _frames(exc: BaseException, submission: str) -> list[dict[str, Any]]:
    """The traceback frames that lie in the submission (the student's own code)."""
    frames = []
    for entry in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(entry.filename).startswith(submission + os.sep):
            frames.append(
                {"file": os.path.basename(entry.filename), "line": entry.lineno or 0,
                 "function": entry.name, "code": wire.safe_str(entry.line or "", 200)}
            )
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append({"file": os.path.basename(exc.filename), "line": exc.lineno or 0,
                       "function": "<module>", "code": wire.safe_str((exc.text or "").strip(), 200)})
    return frames[-8:]


def _error(exc: BaseException, submission: str) -> dict[str, Any]:
    return {"type": wire.safe_str(type(exc).__name__, 80), "message": wire.safe_str(exc, 500),
            "frames": _frames(exc, submission)}


def _arrays(value: Any, depth: int = 0) -> list[np.ndarray]:
    if depth > wire.MAX_DEPTH:
        return []
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays(v, depth + 1)]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arrays(v, depth + 1)]
    return []


def _aliases(result: Any, args: list[Any]) -> bool:
    """Whether any returned array shares memory with an argument array."""
    inputs = _arrays(args)
    return any(np.shares_memory(out, arg) for out in _arrays(result) for arg in inputs)


class Worker:
    """Runs requests against one submission folder."""

    def __init__(self, submission: str) -> None:
        self.submission = submission

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("op") == "import":
            return self._import(request["module"])[0]
        if request.get("op") == "call":
            return self._call(request["module"], request["function"], list(request.get("args", ())))
        return {"status": "protocol", "message": f"unknown request {wire.safe_str(request.get('op'))}"}

    def _import(self, name: str) -> tuple[dict[str, Any], Any]:
        if not os.path.isfile(os.path.join(self.submission, name + ".py")):
            return {"status": "missing", "message": f"there is no file {name}.py in the submission"}, None
        if name in sys.modules:
            return {"status": "ok"}, sys.modules[name]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import is the student's, too
            sys.modules.pop(name, None)
            return {"status": "import_error", "error": _error(exc, self.submission)}, None
        return {"status": "ok"}, module

    def _call(self, module_name: str, function: str, args: list[Any]) -> dict[str, Any]:
        answer, module = self._import(module_name)
        if module is None:
            return answer
        fn = getattr(module, function, None)
        if not callable(fn):
            return {"status": "missing", "message": f"{module_name}.py defines no function {function}()"}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            try:
                value = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - sys.exit, KeyboardInterrupt, MemoryError...
                return {"status": "raised", "error": _error(exc, self.submission),
                        "seconds": time.perf_counter() - start}
            seconds = time.perf_counter() - start
        notes = sorted({f"{w.category.__name__}: {wire.safe_str(w.message, 200)}" for w in caught})
        return {"status": "ok", "value": value, "args_after": args, "aliases": _aliases(value, args),
                "warnings": notes, "seconds": seconds}


def _read_exact(fd: int, count: int) -> bytes | None:
    chunks = []
    while count:
        chunk = os.read(fd, min(count, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _answer(worker: Worker, request: dict[str, Any]) -> bytes:
    try:
        return wire.encode(worker.handle(request))
    except BaseException as exc:  # noqa: BLE001 - e.g. a result that cannot be encoded
        return wire.encode({"status": "protocol", "message": f"could not send the result back: "
                                                             f"{type(exc).__name__}: {wire.safe_str(exc)}"})


def serve(in_fd: int, out_fd: int, worker: Worker) -> None:
    """Answer requests until the grader closes the pipe."""
    while True:
        prefix = _read_exact(in_fd, 4)
        if prefix is None:
            return
        payload = _read_exact(in_fd, wire.frame_length(prefix))
        if payload is None:
            return
        reply = _answer(worker, wire.decode(payload))
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the student may have replaced or closed it
                pass
        _write_all(out_fd, reply)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gatelab-worker")
    parser.add_argument("--submission", required=True)
    parser.add_argument("--in-fd", type=int, required=True)
    parser.add_argument("--out-fd", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--output-mb", type=int, default=8)
    parser.add_argument("--forbid", action="append", default=[])
    options = parser.parse_args(argv)
    submission = os.path.realpath(options.submission)
    sys.dont_write_bytecode = True
    sys.path[:] = [submission] + [p for p in sys.path if p not in ("", os.getcwd())]
    _limit_memory(options.memory_mb)
    _limit_output(options.output_mb)
    sys.addaudithook(_audit_hook(tuple(os.path.realpath(p) for p in options.forbid)))
    serve(options.in_fd, options.out_fd, Worker(submission))


if __name__ == "__main__":
    main()
