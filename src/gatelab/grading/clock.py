"""How long a worker has been at work on a request, counted so that a loaded machine changes nothing.

A call's time limit and a submission's budget count the worker's *active*
time: the CPU time the kernel charged it (its threads and the children it
reaped) plus the time it spent waiting (asleep, blocked on a read, stopped),
but never the time it spent ready to run while other processes had the
cores. So a slow but correct submission gets the same grade on an idle
laptop, a loaded autograder and a shared worker, and a ``sleep`` or a read
that never returns still costs its time limit. The kernel tells this through
``/proc/<pid>/stat`` (Linux); where there is no ``/proc`` (macOS, Windows),
active time is the wall clock's. A wall-clock backstop, ``BACKSTOP`` times
the limit, ends a request whatever its count says.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

BACKSTOP = 4.0  # a request is stopped after this many times its limit on the wall clock, whatever else holds
POLL = 0.05  # seconds between two readings of a worker's clock while a request runs
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") and "SC_CLK_TCK" in os.sysconf_names else 100


@dataclass(frozen=True)
class Reading:
    """One look at a process: CPU seconds used so far, and whether it was running or ready to run."""

    cpu: float
    runnable: bool


def read(pid: int) -> Reading | None:
    """``pid``'s CPU seconds (user and system, of its threads and reaped children) and state, from
    ``/proc/<pid>/stat``; None where there is no such file (another OS, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()  # after "pid (comm) ": comm may hold spaces and parentheses
    try:
        ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime (fields 14-17)
    except ValueError:
        return None
    return Reading(ticks / _TICKS, fields[0] == b"R")


class Stopwatch:
    """The active time of one worker on one request, read each time the grader looks (see the module).

    Between two looks, the part of the wall-clock interval the kernel did not
    charge as CPU counts as waiting when the process is found asleep, and as
    waiting for a core (not counted) when it is found ready to run.
    """

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.started = self._wall = self._paused_at = time.monotonic()
        first = read(pid) if pid is not None else None
        self.counts_cpu = first is not None
        self._cpu0 = self._cpu = first.cpu if first else 0.0
        self._waited = 0.0
        self._excluded = 0.0  # wall-clock seconds the worker spent waiting for the grader

    def active(self) -> float:
        """Seconds of active time since the request was sent (the wall clock's where the OS does not tell)."""
        if not self.counts_cpu:
            return self.wall()
        now = time.monotonic()
        reading = read(self.pid) if self.pid is not None else None
        if reading is not None:
            if not reading.runnable:
                self._waited += max(0.0, (now - self._wall) - (reading.cpu - self._cpu))
            self._cpu = reading.cpu
        self._wall = now
        return self._cpu - self._cpu0 + self._waited

    def wall(self) -> float:
        """Wall-clock seconds since the request was sent, less those the worker waited for the grader."""
        return time.monotonic() - self.started - self._excluded

    def pause(self) -> None:
        """The worker now waits for the grader (a served part): that time is not its own."""
        self.active()
        self._paused_at = time.monotonic()

    def resume(self) -> None:
        """The grader answered: count again from here."""
        now = time.monotonic()
        self._excluded += now - self._paused_at
        reading = read(self.pid) if self.counts_cpu and self.pid is not None else None
        if reading is not None:
            self._cpu0 += reading.cpu - self._cpu
            self._cpu = reading.cpu
        self._wall = now


@dataclass(frozen=True)
class Allowance:
    """What a request may use: ``limit`` seconds of active time, and ``BACKSTOP`` times that on the wall
    clock; ``budget_binds`` when the limit is what is left of the submission's budget, not a call's own."""

    limit: float
    budget_binds: bool = False

    @classmethod
    def within(cls, limit: float, left: float) -> "Allowance":
        """A call's own ``limit``, or what is ``left`` of the budget when that is less."""
        return cls(min(limit, left), budget_binds=left < limit)

    def spent(self, watch: Stopwatch) -> str:
        """Why ``watch``'s request is over its allowance: ``active`` or ``backstop``; empty while it is not."""
        if watch.active() >= self.limit:
            return "active"
        return "backstop" if watch.wall() >= self.limit * BACKSTOP else ""
