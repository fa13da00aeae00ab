"""The few Linux calls that the wall around a worker needs and Python's ``os`` module lacks, through libc.

Raw system calls (Landlock, seccomp, capabilities), ``prctl``, ``unshare``
and ``mount``, each raising ``OSError`` with the kernel's errno, so that the
caller can say which layer could not be built and why.
"""
from __future__ import annotations

import ctypes
import os
import sys
from functools import lru_cache
from typing import Any

PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS = 3, 4, 8, 38
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x10000000, 0x40000000, 0x08000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000


def linux() -> bool:
    return sys.platform.startswith("linux")


@lru_cache(maxsize=1)
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _checked(result: int, what: str) -> int:
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def call(number: int, *args: Any) -> int:
    """The system call ``number`` with ``args`` (ints, byte strings, pointers); its result, or OSError. A
    positive result where 0 means success (seccomp's thread sync names a thread it could not filter) is an
    error too, for the callers that say so."""
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    return _checked(libc.syscall(ctypes.c_long(number), *[_arg(a) for a in args]), f"system call {number}")


def _arg(value: Any) -> Any:
    return ctypes.c_long(value) if isinstance(value, int) else value


def prctl(option: int, value: int = 0) -> int:
    return _checked(_libc().prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0),
                                  ctypes.c_ulong(0)), f"prctl({option})")


def unshare(flags: int) -> None:
    _checked(_libc().unshare(flags), "unshare")


def mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    _checked(_libc().mount(encode(source), encode(target), encode(kind), ctypes.c_ulong(flags), encode(data)),
             f"mount {target}")


def encode(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def status_field(name: str) -> str | None:
    """A field of /proc/self/status (``Seccomp``, ``NoNewPrivs``, ``Uid``, ...), or None where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key == name:
                    return value.strip()
    except OSError:
        pass
    return None
