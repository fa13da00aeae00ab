"""The worker builds its wall around itself, in this order, before it imports any student code.

1. namespaces: an empty network namespace, a mount namespace with fresh
   ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (its own folders bound back in);
2. the Landlock ruleset, opened while the worker may still open anything;
3. as root, the submission's own user and group (``CAP_DAC_READ_SEARCH``
   kept only where the interpreter lives where that user cannot read it,
   and only under Landlock, which then decides what may be read);
4. ``no_new_privs``, then Landlock;
5. every inherited descriptor but the worker's own closed;
6. the seccomp filter, last: after it nothing above can be undone.

Each step asked for either holds or raises :class:`Unconfined`: the worker
then exits without running student code (``EXIT_UNCONFINED``).
"""
from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from gatelab.grading import kernel, landlock, seccomp

EXIT_UNCONFINED = 111
PRIVATE_TEMP = ("/tmp", "/var/tmp", "/dev/shm")
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib",
                    "/etc/ld.so.cache")
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")
CAP_DAC_READ_SEARCH = 2
_CAPABILITY_V3 = 0x20080522
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}


class Unconfined(RuntimeError):
    """A layer the grader asked for could not be built."""


@dataclass
class Plan:
    """What the grader asked of this worker (its command-line options) and where it lives."""

    submission: str
    scratch: str
    landlock: int = 0
    seccomp: bool = False
    namespaces: bool = False
    uid: int | None = None
    gid: int | None = None
    read: Sequence[str] = ()  # folders the worker reads beside the submission: the interpreter's
    keep_fds: set[int] = field(default_factory=set)


def build(plan: Plan) -> None:
    """Build every layer of ``plan`` on this process, or raise :class:`Unconfined`."""
    if plan.namespaces:
        try:
            enter_namespaces((plan.submission, plan.scratch, *plan.read))
        except OSError as exc:
            raise Unconfined(f"private network and mount namespaces: {exc}") from exc
    ruleset = _ruleset(plan) if plan.landlock else -1
    try:
        if plan.uid is not None and plan.gid is not None:
            _become(plan.uid, plan.gid, keep_read=ruleset >= 0 and not all(map(_readable_by_others, plan.read)))
        elif plan.namespaces and os.geteuid() != 0:
            _capabilities(0)  # what the new user namespace gave, given back
        kernel.prctl(kernel.PR_SET_NO_NEW_PRIVS, 1)
        if ruleset >= 0:
            _single_threaded()
            landlock.restrict(ruleset)
            ruleset = -1
    except OSError as exc:
        raise Unconfined(str(exc)) from exc
    finally:
        if ruleset >= 0:
            os.close(ruleset)
    close_inherited(plan.keep_fds)
    if plan.seccomp:
        try:
            seccomp.install()
        except OSError as exc:
            raise Unconfined(f"seccomp: {exc}") from exc
    if plan.seccomp and plan.landlock:
        kernel.prctl(kernel.PR_SET_DUMPABLE, 1)  # its own /proc files readable by itself again (a change of user
        # made them root's); no other process can use that: no ptrace, and Landlock hides /proc/<pid> of others


def interpreter_roots() -> list[str]:
    """The folders a worker reads to run at all: the interpreter's library, its site-packages, numpy, gatelab."""
    import importlib.util
    import site

    gatelab = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    numpy = importlib.util.find_spec("numpy")
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(os.__file__),
                  gatelab, *site.getsitepackages(), site.getusersitepackages()]
    if numpy is not None and numpy.submodule_search_locations:
        candidates += list(numpy.submodule_search_locations)
    roots = {os.path.realpath(c) for c in candidates if c}
    return sorted(r for r in roots if r != os.sep and os.path.exists(r))


def _ruleset(plan: Plan) -> int:
    rules = landlock.Ruleset(plan.landlock, read=[plan.submission, *plan.read, *SYSTEM_LIBRARIES,
                                                  f"/proc/{os.getpid()}"],
                             write=[plan.scratch], read_write_files=list(DEVICES))
    try:
        return rules.build()
    except OSError as exc:
        raise Unconfined(f"Landlock: {exc}") from exc


def private_namespaces(keep: Iterable[str] = ()) -> bool:
    """:func:`enter_namespaces`; False where the kernel refuses (Docker's default profile, user namespaces
    disabled)."""
    try:
        enter_namespaces(keep)
    except OSError:
        return False
    return True


def enter_namespaces(keep: Iterable[str] = ()) -> None:
    """Enter an empty network namespace and a mount namespace whose temporary folders are fresh (``keep``:
    folders inside them bound back in at the same place). As root directly; otherwise inside a user namespace
    of one's own. Raises OSError where the kernel refuses."""
    if not kernel.linux():
        raise OSError(errno.ENOSYS, "namespaces are Linux's")
    keep = [os.path.realpath(path) for path in keep if os.path.exists(path)]
    uid, gid = os.getuid(), os.getgid()
    flags = kernel.CLONE_NEWNET | kernel.CLONE_NEWNS | kernel.CLONE_NEWIPC
    handles: dict[str, int] = {}
    dumpable: int | None = None
    try:
        if os.geteuid() == 0:
            kernel.unshare(flags)
        else:
            # A worker forked from the template inherits its non-dumpable flag, which makes /proc/self root's:
            # it could not write its own maps or bind its kept folders. Dumpable only until they are done (no
            # student code runs meanwhile; workers already running are behind Landlock and seccomp: no ptrace).
            dumpable = kernel.prctl(kernel.PR_GET_DUMPABLE)
            kernel.prctl(kernel.PR_SET_DUMPABLE, 1)
            kernel.unshare(flags | kernel.CLONE_NEWUSER)
            _map_self(uid, gid)
        kernel.mount(None, "/", None, kernel.MS_REC | kernel.MS_PRIVATE)
        temps = [t for t in PRIVATE_TEMP if os.path.isdir(t) and not os.path.islink(t)]
        for path in keep:  # opened in the new namespace, before its temporary folders are covered
            if any(path == t or path.startswith(t + "/") for t in map(os.path.realpath, temps)):
                handles[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        for temp in temps:
            kernel.mount("tmpfs", temp, "tmpfs", kernel.MS_NOSUID | kernel.MS_NODEV, "size=64m,mode=1777")
        for path, handle in handles.items():
            os.makedirs(path, exist_ok=True)
            kernel.mount(f"/proc/self/fd/{handle}", path, None, kernel.MS_BIND)
    finally:
        for handle in handles.values():
            os.close(handle)
        if dumpable is not None:
            kernel.prctl(kernel.PR_SET_DUMPABLE, dumpable)


def _map_self(uid: int, gid: int) -> None:
    """In a new user namespace, be the same user and group as outside it."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def _become(uid: int, gid: int, keep_read: bool) -> None:
    """Run as ``uid``/``gid`` for good, with no supplementary groups; with ``keep_read``, keep only the right
    to read any file (which Landlock then narrows to what the worker may read)."""
    if keep_read:
        kernel.prctl(kernel.PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if 0 in os.getresuid() or 0 in os.getresgid():
        raise Unconfined("could not drop root")
    _capabilities(1 << CAP_DAC_READ_SEARCH if keep_read else 0)


def _capabilities(mask: int) -> None:
    """Keep exactly the capabilities in ``mask`` (effective and permitted; none inheritable)."""
    arch = seccomp.machine()
    if arch is None:
        raise Unconfined("capabilities: unknown machine")
    header = ctypes.create_string_buffer(struct.pack("=Ii", _CAPABILITY_V3, 0))
    data = ctypes.create_string_buffer(struct.pack("=6I", mask, mask, 0, 0, 0, 0))
    kernel.call(_SYS_CAPSET[arch], header, data)


def _readable_by_others(path: str) -> bool:
    """Whether a user who owns nothing could list ``path`` and reach it through its parents."""
    real = os.path.realpath(path)
    try:
        if not os.path.isdir(real) or (os.stat(real).st_mode & 0o005) != 0o005:
            return not os.path.exists(real)
        parent = os.path.dirname(real)
        while parent != os.path.dirname(parent):
            if not os.stat(parent).st_mode & 0o001:
                return False
            parent = os.path.dirname(parent)
    except OSError:
        return False
    return True


def _single_threaded() -> None:
    """Landlock binds the calling thread (and threads it starts later): there must be no other yet."""
    try:
        threads = os.listdir(f"/proc/{os.getpid()}/task")
    except OSError:
        return
    if len(threads) > 1:
        raise Unconfined(f"Landlock: the worker has {len(threads)} threads before its wall is built")


def close_inherited(keep: set[int]) -> None:
    """Close every descriptor but the standard streams and ``keep``: nothing handed down reaches student code.
    By ranges (close_range on Linux), not by listing /proc/self/fd, which a non-dumpable process may not read."""
    kept = sorted({0, 1, 2, *keep})
    for low, high in zip(kept, [*kept[1:], _descriptor_ceiling()]):
        if high > low + 1:
            os.closerange(low + 1, high)


def _descriptor_ceiling() -> int:
    """One past the largest descriptor number this process can hold."""
    try:
        import resource
    except ImportError:  # Windows: the C runtime's own ceiling (_setmaxstdio)
        return 8192
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return hard if 0 < hard < 1 << 24 else 1 << 24


def fail(reason: str) -> None:
    """Exit at once, no student code run, saying why (into the output the grader reads)."""
    try:
        os.write(2, f"gatelab worker: the wall around this worker could not be built: {reason}\n".encode())
    finally:
        os._exit(EXIT_UNCONFINED)

