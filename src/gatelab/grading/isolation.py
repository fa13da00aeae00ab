"""The trusted side of the wall around workers: what this machine's kernel can enforce, who each worker runs
as, and whether a command may grade here.

Layers (each built by the worker on itself before any student code runs,
see ``confine``; a worker that cannot build one it was asked for exits
without running anything):

- ``landlock``: reads only below the interpreter and the staged submission,
  writes only in the worker's own folder; by ABI, no TCP, no signals or
  abstract sockets outside the worker;
- ``seccomp``: no programs, processes, sessions, sockets, tracing, mounts,
  namespaces, ``io_uring`` (see ``seccomp.DENIED``);
- ``namespaces``: an empty network namespace and private ``/tmp``,
  ``/var/tmp`` and ``/dev/shm`` per worker, where the kernel lets this user
  make them;
- ``uid``: as root, each submission's workers run as users of their own
  (one per lane), never shared with another submission's, never ``root``.

The audit hook in every worker is not a layer: it is a tripwire that turns
what a layer would refuse into feedback that names it.
"""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gatelab.course.limits import POLICIES, WEAK
from gatelab.errors import GatelabError, UsageError
from gatelab.grading import kernel, landlock, seccomp

EXIT_UNISOLATED = 6
NOBODY = 65534
ID_FLOOR = 200_000  # ids below this are left to the machine's own users
_LOCKS = "gatelab-ids"


class IsolationError(GatelabError):
    """The wall a command requires cannot be built on this machine."""

    exit_code = EXIT_UNISOLATED


@dataclass(frozen=True)
class Wall:
    """The layers every worker of this process gets (see the module's docstring)."""

    landlock: int = 0  # the Landlock ABI used; 0: none
    seccomp: bool = False
    namespaces: bool = False
    uid: bool = False
    root: bool = False

    def layers(self) -> list[str]:
        named = landlock.Ruleset(self.landlock).layers() if self.landlock else []
        named += ["seccomp"] if self.seccomp else []
        named += ["namespaces"] if self.namespaces else []
        named += ["uid-per-submission"] if self.uid else []
        return named

    def missing(self) -> list[str]:
        """What a strict grader needs and this wall lacks: Landlock, seccomp, and (as root) users of its own."""
        lacking = [] if self.landlock else ["Landlock (the kernel lacks it or has it disabled)"]
        lacking += [] if self.seccomp else ["seccomp (no system-call filter for this kernel or machine)"]
        if self.root and not self.uid:
            lacking.append("a user per submission (no free user ids in this user namespace)")
        return lacking

    def summary(self) -> str:
        """One line for the results and notes: the layers, and the tripwire."""
        return ", ".join(self.layers() or ["none"]) + " (and the audit hook as a tripwire)"


@lru_cache(maxsize=1)
def wall() -> Wall:
    """The strongest wall this machine allows, found once per process."""
    if not kernel.linux():
        return Wall()
    root = os.geteuid() == 0
    return Wall(landlock=landlock.abi(), seccomp=seccomp.available(), namespaces=_namespaces_work(),
                uid=root and id_pool() is not None, root=root)


def policy(configured: str) -> str:
    """The policy in force: ``GATELAB_ISOLATION`` (set by ``--isolation``, and inherited by a batch's
    processes) over the assignment's ``isolation``."""
    asked = os.environ.get("GATELAB_ISOLATION", "").strip().lower()
    if asked and asked not in POLICIES:
        raise UsageError(f"GATELAB_ISOLATION={asked!r} is not known: use strict or weak")
    return asked or configured


def require(policy: str) -> Wall:
    """The wall, for a command that grades for the record: refused (IsolationError) under the ``strict``
    policy where a layer is missing, allowed under ``weak``."""
    built = wall()
    if policy != WEAK and built.missing():
        raise IsolationError(
            f"refusing to grade: the wall around student code cannot be built here: {'; '.join(built.missing())}. "
            "Grade on Linux 5.13+ with Landlock enabled, or pass --isolation weak (or isolation: weak in "
            "config.yaml) to grade behind what this machine has")
    return built


def _namespaces_work() -> bool:
    """Whether a worker can make its own network and mount namespaces here (tried in a throwaway process:
    Docker's default profile refuses ``unshare``, most VMs and CI runners allow it)."""
    code = ("import sys; from gatelab.grading import confine; sys.exit(0 if confine.private_namespaces() else 1)")
    root = str(Path(__file__).resolve().parents[2])
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {root!r}); {code}"],
                              capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _extents(path: str) -> list[range]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    extents = []
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            start, count = int(parts[0]), int(parts[2])
            extents.append(range(start, start + count))
    return extents


@lru_cache(maxsize=1)
def id_pool() -> range | None:
    """The user and group ids workers may take: the largest run, at or above ``ID_FLOOR``, that this user
    namespace maps for both users and groups (all of them, outside a user namespace)."""
    best: range | None = None
    for users in _extents("/proc/self/uid_map"):
        for groups in _extents("/proc/self/gid_map"):
            low = max(users.start, groups.start, ID_FLOOR)
            high = min(users.stop, groups.stop, 2**32 - 2)  # (uid_t)-1 is no one
            if high - low >= 64 and (best is None or high - low > len(best)):
                best = range(low, high)
    return best


@dataclass
class Identity:
    """The ids one submission's workers run as: a group for the submission, a user per lane. Held (by a lock
    file that only root can reach) until :meth:`release`, so no other grading process takes the same ids."""

    gid: int
    uids: dict[str, int]
    _lock: int = -1

    def release(self) -> None:
        for uid in self.uids.values() if self._lock >= 0 else ():  # never the shared fallback's (nobody's)
            reap(uid)
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


def lease(lanes: tuple[str, ...]) -> Identity:
    """Ids for one submission, never held by another grading process at the same time (root only). Where
    there are no ids to take (a small user namespace; only under ``--isolation weak``), every worker runs as
    ``nobody``, as a shared user."""
    pool = id_pool()
    if pool is None:
        return Identity(gid=NOBODY, uids={lane: NOBODY for lane in lanes})
    folder = Path(tempfile.gettempdir()) / _LOCKS
    folder.mkdir(mode=0o700, exist_ok=True)
    status = folder.lstat()
    if status.st_uid != 0 or status.st_mode & 0o077 or not folder.is_dir() or folder.is_symlink():
        raise IsolationError(f"{folder} is not a private folder of root's; remove it")
    width = len(lanes)
    blocks = len(pool) // width
    start = (os.getpid() * 7919) % blocks
    for step in range(4096):
        block = (start + step) % blocks
        base = pool.start + block * width
        handle = os.open(folder / str(base), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            continue
        return Identity(gid=base, uids={lane: base + i for i, lane in enumerate(lanes)}, _lock=handle)
    raise IsolationError("no free user ids for the workers (4096 taken)")


def reap(uid: int) -> None:
    """Kill every process still running as ``uid`` (root only): whatever a worker left behind, if a layer
    that stops it from starting processes was missing."""
    if os.geteuid() != 0:
        return
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                os.kill(int(entry), signal.SIGKILL)
        except OSError:
            continue


def options(built: Wall, identity: Identity | None, lane: str) -> list[str]:
    """The worker's command-line options that ask for ``built``'s layers (as ``lane``'s user, if any)."""
    argv = ["--landlock", str(built.landlock)] if built.landlock else []
    argv += ["--seccomp"] if built.seccomp else []
    argv += ["--namespaces"] if built.namespaces else []
    if identity is not None:
        argv += ["--uid", str(identity.uids[lane]), "--gid", str(identity.gid)]
    return argv
