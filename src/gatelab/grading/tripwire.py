"""The worker's tripwire: an audit hook that turns what an exercise function never needs (processes,
sockets, signals, writing files, reading outside the submission and the Python installation) into a clear
PermissionError naming the act. A tripwire only: ctypes and ``_posixsubprocess`` walk past it, and the
kernel's layers (``confine``) are what refuse. The worker imports this before it builds its wall."""
from __future__ import annotations

import os
from typing import Any, Callable

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
    "socket.__new__": "open network connections (sockets)",
    "socket.connect": "open network connections",
    "socket.bind": "open network connections",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")


def _inside(real: str, roots: tuple[str, ...]) -> bool:
    return any(real == root or real.startswith(root + os.sep) for root in roots)


def _own_proc(real: str) -> bool:
    """Whether ``real`` is this process's own /proc entry (never another process's environment or memory)."""
    head = real[len("/proc/"):].split("/", 1)[0] if real.startswith("/proc/") else ""
    return head in ("self", "thread-self", str(os.getpid()))


def audit_hook(readable: tuple[str, ...]) -> Callable[[str, tuple[Any, ...]], None]:
    """An audit hook refusing what an exercise function never needs: processes, sockets, signals, writing
    files, and reading or listing anything outside the submission and the Python installation.

    A tripwire only (ctypes and ``_posixsubprocess`` get around it): it
    names what the code tried; the kernel's layers (``confine``) refuse it.
    """

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in _BLOCKED_EVENTS:
            raise PermissionError(f"grading does not allow code to {_BLOCKED_EVENTS[event]} ({event})")
        if event not in ("open", "os.listdir", "os.scandir") or not args:
            return
        path = args[0] if args[0] is not None else "."
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        shown = os.fsdecode(path)
        mode, flags = (tuple(args[1:]) + (None, None))[:2] if event == "open" else (None, None)
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing and shown != os.devnull:
            raise PermissionError(f"grading does not allow writing files ({shown})")
        real = os.path.realpath(shown)
        if _inside(real, readable) or real in _DEVICES or _own_proc(real):
            return
        if real.startswith("/proc/"):
            raise PermissionError(f"grading does not allow reading other processes' files ({shown})")
        raise PermissionError(f"grading does not allow reading files outside your submission ({shown})")

    return hook
