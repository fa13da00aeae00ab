"""The student side: a subprocess that imports a submission and runs calls.

It reads request frames from one pipe and writes outcome frames to another
(see ``wire``). It never judges anything and imports no grader code beyond
the wire format, its wall (``confine``) and its tripwire (``tripwire``):
whatever it reports is data for the trusted side to check.
Its stdout and stderr go to a file the grader reads, so nothing a student
prints can be mistaken for a result.

A composite can be run with its *parts served*: for that call, the names of
its parts (the contract functions it calls) in the submission's modules are
bound to stand-ins that ask the trusted side for the reference's value over
the same pipes. The reference's code never enters this process, and a
composite is judged on its own work whatever its parts do.

Before it imports any student code, the worker builds the wall the grader
asked for around itself (``confine``: namespaces, its own user, Landlock,
seccomp, no inherited descriptors), or exits without running anything. The
audit hook it installs last (``tripwire``) is not a wall: it turns a forbidden
act into feedback that names it, and native code can walk past it; the
kernel's layers are what hold.
"""
from __future__ import annotations

import argparse
import faulthandler
import importlib
import io
import os
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, NoReturn, Sequence

import numpy as np

from gatelab.grading import confine, tripwire, wire

# Modules a student may import that are not loaded yet when a privileged worker builds its wall: loaded first,
# because that is quicker than importing each later in every worker.
_PRELOAD = ("math", "cmath", "random", "itertools", "functools", "collections", "typing", "dataclasses",
            "copy", "operator", "string", "textwrap", "json", "re", "struct", "heapq", "bisect", "array",
            "pathlib", "subprocess", "socket", "encodings.idna", "signal", "threading", "numpy.linalg",
            "numpy.random", "numpy.fft")


class PartError(RuntimeError):
    """The grader would not (or could not) compute a served part for these arguments."""


RENAME_CUTOFF = 0.85  # how alike a name must be to be called a misspelling of the one asked for (1 = same)
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


class Channel:
    """The two pipes to the trusted side: requests in, replies (and part requests) out."""

    def __init__(self, in_fd: int, out_fd: int) -> None:
        self.in_fd = in_fd
        self.out_fd = out_fd

    def receive(self) -> dict[str, Any] | None:
        """The next message from the grader, or None when it closed the pipe."""
        prefix = _read_exact(self.in_fd, 4)
        if prefix is None:
            return None
        payload = _read_exact(self.in_fd, wire.frame_length(prefix))
        return None if payload is None else wire.decode(payload)

    def send(self, frame: bytes) -> None:
        _write_all(self.out_fd, frame)

    def ask_part(self, qualname: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """The trusted side's value of the part ``qualname`` on these arguments."""
        self.send(wire.encode({"op": "part", "part": qualname, "args": args, "kwargs": kwargs}))
        reply = self.receive()
        if reply is None:
            raise PartError("the grader stopped answering")
        if reply.get("status") != "ok":
            raise PartError(wire.safe_str(reply.get("message", "refused"), 300))
        return reply.get("value")


def _stand_in(channel: Channel, qualname: str) -> Any:
    """A function that forwards its call to the trusted side, named like the part it replaces."""

    def part(*args: Any, **kwargs: Any) -> Any:
        return channel.ask_part(qualname, list(args), kwargs)

    part.__name__ = part.__qualname__ = qualname.rsplit(".", 1)[-1]
    part.__doc__ = f"{qualname}, computed by the grader"
    return part


class Watchdog:
    """Writes the call's stack to the grader's file shortly before the grader stops a call that hangs, so the
    feedback can say where it hung (``faulthandler`` writes it from C, even inside numpy).

    Where the OS has interval timers, ``faulthandler`` answers SIGALRM and each call only sets the timer (two
    system calls); elsewhere it arms a watchdog thread per call, which costs far more.
    """

    def __init__(self, fd: int = -1, after: float = 0.0) -> None:
        self.fd = fd
        self.after = after if fd >= 0 else 0.0
        self.timer = self.after > 0 and hasattr(signal, "setitimer") and hasattr(faulthandler, "register")
        if self.timer:
            faulthandler.register(signal.SIGALRM, file=fd, all_threads=True)

    def __enter__(self) -> "Watchdog":
        if self.timer:
            signal.setitimer(signal.ITIMER_REAL, self.after)
        elif self.after > 0:
            faulthandler.dump_traceback_later(self.after, file=self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elif self.after > 0:
            faulthandler.cancel_dump_traceback_later()


FATAL = "Fatal Python error"  # how faulthandler heads the stack it writes when a fatal signal ends the worker
REAL_EXIT = os._exit


def record_endings(fd: int) -> None:
    """Have the worker write its stack to the grader's file ``fd`` as it ends abruptly, so the feedback can say
    which line ended it: ``faulthandler`` on a fatal signal (SIGSEGV, SIGABRT, ...), a wrapped ``os._exit``
    otherwise. Feedback only: native code (``posix._exit`` through ctypes) ends the worker unrecorded."""
    if fd < 0:
        return
    faulthandler.enable(file=fd, all_threads=False)

    def told_exit(status: int) -> NoReturn:
        try:
            os.write(fd, f"\n{FATAL}: os._exit({status!r}) called\n\n".encode())
            faulthandler.dump_traceback(file=fd, all_threads=False)
        finally:
            REAL_EXIT(status)

    os._exit = told_exit


def _rename(name: str, present: list[str], suffix: str) -> str:
    """``, but there is x(): a misspelt name?`` when a name near ``name`` is ``present``, else nothing."""
    from gatelab.errors import closest  # only when something is missing: difflib stays off the worker's start

    found = closest(name, present, RENAME_CUTOFF)[:1]
    return f", but there is {found[0]}{suffix}: a misspelt name?" if found else ""


class Worker:
    """Runs requests against one submission folder."""

    def __init__(self, submission: str, channel: Channel | None = None, watchdog: Watchdog | None = None) -> None:
        self.submission = submission
        self.channel = channel
        self.watchdog = watchdog or Watchdog()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("op") == "import":
            return self._import(request["module"])[0]
        if request.get("op") == "call":
            return self._call(request["module"], request["function"], list(request.get("args", ())),
                              [str(p) for p in request.get("serve") or ()])
        return {"status": "protocol", "message": f"unknown request {wire.safe_str(request.get('op'))}"}

    def _import(self, name: str) -> tuple[dict[str, Any], Any]:
        if not os.path.isfile(os.path.join(self.submission, name + ".py")):
            files = [f for f in os.listdir(self.submission) if f.endswith(".py")]
            return {"status": "missing", "error": {"missing": "file", "file": f"{name}.py"},
                    "message": f"there is no file {name}.py in the submission" + _rename(name + ".py", files, "")}, None
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

    def _own_modules(self) -> list[Any]:
        """The submission's modules imported so far (imported from ``self.submission``, a real path on
        ``sys.path``, so their ``__file__`` starts with it: no ``realpath`` of every numpy module per call)."""
        own = []
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and path.startswith(self.submission + os.sep):
                own.append(module)
        return own

    def _serve_parts(self, parts: list[str]) -> list[tuple[Any, str, Any]]:
        """Bind each part's names in the submission to a stand-in; returns what to put back."""
        if self.channel is None or not parts:
            return []
        modules = self._own_modules()
        undo: list[tuple[Any, str, Any]] = []
        for qualname in parts:
            module_name, name = qualname.rsplit(".", 1)
            stand_in = _stand_in(self.channel, qualname)
            home = sys.modules.get(module_name)
            original = getattr(home, name, None) if home is not None else None
            for module in modules:
                bound = vars(module)
                names = [k for k, v in bound.items() if original is not None and v is original]
                if module is home and name not in names:
                    names.append(name)
                for key in names:
                    undo.append((module, key, bound.get(key, _MISSING)))
                    bound[key] = stand_in
        return undo

    @staticmethod
    def _restore(undo: list[tuple[Any, str, Any]]) -> None:
        for module, key, value in reversed(undo):
            if value is _MISSING:
                vars(module).pop(key, None)
            else:
                vars(module)[key] = value

    def _call(self, module_name: str, function: str, args: list[Any],
              parts: Sequence[str] = ()) -> dict[str, Any]:
        answer, module = self._import(module_name)
        if module is None:
            return answer
        fn = getattr(module, function, None)
        if not callable(fn):
            defined = [name for name, value in vars(module).items() if callable(value) and not name.startswith("_")]
            return {"status": "missing", "error": {"missing": "function", "file": f"{module_name}.py"},
                    "message": f"{module_name}.py defines no function {function}()" + _rename(function, defined, "()")}
        undo = self._serve_parts(list(parts))
        before = _snapshot(args)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                try:
                    with self.watchdog:
                        value = fn(*args)
                except BaseException as exc:  # noqa: BLE001 - sys.exit, KeyboardInterrupt, MemoryError...
                    return {"status": "raised", "error": _error(exc, self.submission),
                            "seconds": time.perf_counter() - start}
                seconds = time.perf_counter() - start
        finally:
            self._restore(undo)
        notes = sorted({f"{w.category.__name__}: {wire.safe_str(w.message, 200)}" for w in caught})
        reply = {"status": "ok", "value": value, "aliases": wire.aliases(value, args), "warnings": notes,
                 "seconds": seconds}
        if _snapshot(args) != before:
            reply["args_after"] = args  # only then: the grader compares what came back with what it sent
        return reply


_MISSING = object()


def _snapshot(value: Any, depth: int = 0) -> Any:
    """What a call can change of its arguments, to compare after it: every array's dtype, shape and bytes,
    every container's type and contents. Equal snapshots mean arguments the grader would find unchanged."""
    if isinstance(value, np.ndarray):
        return value.dtype.str, value.shape, value.tobytes()
    if depth > wire.MAX_DEPTH:
        return id(value)
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_snapshot(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return "dict", [(k, _snapshot(v, depth + 1)) for k, v in value.items()]
    if isinstance(value, float):
        return "float", value.hex()
    return type(value).__name__, value if isinstance(value, (int, str, bool, type(None))) else id(value)


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
    """The reply to one request, with where its printed output ends in the output file (``printed_to``), so
    that the grader can tell each call's output apart when it sent several requests at once."""
    try:
        reply = worker.handle(request)
    except BaseException as exc:  # noqa: BLE001 - whatever the student's code left behind
        reply = {"status": "protocol", "message": f"could not send the result back: "
                                                  f"{type(exc).__name__}: {wire.safe_str(exc)}"}
    flush(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    try:
        reply["printed_to"] = os.lseek(1, 0, os.SEEK_CUR)
    except OSError:
        pass
    try:
        return wire.encode(reply)
    except BaseException as exc:  # noqa: BLE001 - e.g. a result that cannot be encoded
        return wire.encode({"status": "protocol", "message": f"could not send the result back: "
                                                             f"{type(exc).__name__}: {wire.safe_str(exc)}"})


def flush(*streams: Any) -> None:
    """Flush what was printed, whatever the student made of the streams (None, replaced, closed)."""
    for stream in streams:
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the student may have replaced or closed it
            pass


def serve(channel: Channel, worker: Worker) -> None:
    """Answer requests until the grader closes the pipe."""
    while True:
        request = channel.receive()
        if request is None:
            return
        channel.send(_answer(worker, request))


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def preload() -> None:
    """Import what student code may need before the worker loses the right to read the interpreter's files."""
    for name in ("pwd", "resource", *_PRELOAD):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gatelab-worker")
    parser.add_argument("--submission", required=True)
    parser.add_argument("--in-fd", type=int, default=-1)
    parser.add_argument("--out-fd", type=int, default=-1)
    parser.add_argument("--stdio", action="store_true")  # the portable path: the pipes are stdin and stdout
    parser.add_argument("--output-file", default="")  # with --stdio: where prints go (appended to)
    parser.add_argument("--stack-file", default="")  # with --stdio: where the stack of a call near its limit goes
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--output-mb", type=int, default=8)
    parser.add_argument("--landlock", type=int, default=0)  # the Landlock ABI to build a ruleset for (0: none)
    parser.add_argument("--seccomp", action="store_true")
    parser.add_argument("--namespaces", action="store_true")
    parser.add_argument("--uid", type=int, default=None)  # as root: the user and group to run as
    parser.add_argument("--gid", type=int, default=None)
    parser.add_argument("--stack-fd", type=int, default=-1)
    parser.add_argument("--stack-after", type=float, default=0.0)
    parser.add_argument("--cwd", default=".")  # a forked worker's own folder (a started one is started there)
    return parser.parse_args(argv)


def prepare_interpreter() -> None:
    """What every worker does before it knows its submission: text streams, and, as root, preloads."""
    sys.dont_write_bytecode = True
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")  # the grader reads it as UTF-8
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    if running_as_root():
        preload()


def become_worker(options: argparse.Namespace) -> None:
    """Limit this process, build its wall, set the tripwire, and answer requests on the submission."""
    submission = os.path.realpath(options.submission)
    scratch = os.path.realpath(os.getcwd())
    sys.path.insert(0, submission)
    _limit_memory(options.memory_mb)
    _limit_output(options.output_mb)
    read = confine.interpreter_roots()
    plan = confine.Plan(submission=submission, scratch=scratch, landlock=options.landlock, seccomp=options.seccomp,
                        namespaces=options.namespaces, uid=options.uid, gid=options.gid, read=read,
                        keep_fds={options.in_fd, options.out_fd, options.stack_fd} - {-1})
    try:
        confine.build(plan)
    except confine.Unconfined as exc:
        confine.fail(str(exc))
    record_endings(options.stack_fd)
    sys.addaudithook(tripwire.audit_hook(tuple(sorted({submission, scratch, *read}))))
    channel = Channel(options.in_fd, options.out_fd)
    serve(channel, Worker(submission, channel, Watchdog(options.stack_fd, options.stack_after)))


def main(argv: list[str] | None = None) -> None:
    """A worker started on its own (``subprocess``): one submission, the pipes named on the command line, or
    (``--stdio``, the portable path) its standard input and output."""
    options = parse_options(argv)
    if options.stdio:
        _take_stdio(options)
    elif options.in_fd < 0 or options.out_fd < 0:
        raise SystemExit("gatelab worker: give --in-fd and --out-fd, or --stdio")
    prepare_interpreter()
    become_worker(options)


def _take_stdio(options: argparse.Namespace) -> None:
    """Move the grader's pipes off the standard streams, before any student code can print onto them: the
    requests and replies go on copies of them, prints to the output file, and stdin reads nothing."""
    options.in_fd, options.out_fd = os.dup(0), os.dup(1)
    appended = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0)
    output = os.open(options.output_file, appended) if options.output_file else os.open(os.devnull, os.O_WRONLY)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    if options.stack_file:
        options.stack_fd = os.open(options.stack_file, appended)


if __name__ == "__main__":
    main()
