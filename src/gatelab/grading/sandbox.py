"""The trusted side of isolation: spawn, feed, time and replace student workers.

Every call into a submission goes through :class:`Sandbox`. Whatever the
student's code does (hang, exit, crash, exhaust memory, print megabytes),
the call comes back as an :class:`Outcome` and the next call gets a fresh
worker if it needs one. A module whose import fails is remembered, so a
syntax error costs that module's tests at once instead of a worker per test.

What the worker can reach is kept small: it runs on a copy of the
submission's Python files (no symlinks followed), in an empty folder of its
own, with a scrubbed environment (``WORKER_ENV``), behind the wall this
machine's kernel can build (``isolation``: Landlock, seccomp, namespaces,
and as root a user per submission and lane). The worker learns nothing of
the assignment's path. The grading process itself is made non-dumpable on
Linux, so a worker of the same user cannot read its environment or memory
through ``/proc``. Each call has a time limit and a whole submission a
``budget``, both counted in active time (``clock``: the same on a loaded
machine as on an idle one); once the budget is spent, the remaining calls
are skipped at once.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from gatelab.course.limits import Limits
from gatelab.grading import confine, isolation, pipes, wire
from gatelab.grading.clock import BACKSTOP, POLL, Allowance, Stopwatch
from gatelab.grading.hardening import non_dumpable
from gatelab.grading.launch import kill_tree, launch
from gatelab.grading.submission import submitted_files
from gatelab.grading.transcript import Transcript

STARTUP_SECONDS = 3.0  # allowed on top of the limit for a new worker's own start-up (numpy import)
MAX_PART_CALLS = 20_000  # served part requests in one call
MAX_PART_ELEMENTS = 10_000_000  # array entries in the arguments of one served part request
STAGED_LIMITS = (500, 20 * 1024 * 1024)  # Python files, bytes copied from a submission

PartServer = Callable[..., Any]  # computes one part's value in the trusted process


class PartRefused(Exception):
    """A served part asked for on arguments the grader will not compute it on (not of the contract's shapes)."""


class CallStatus(str, Enum):
    """What happened to one request to the submission."""

    OK = "ok"
    RAISED = "raised"  # the student's code raised (any BaseException)
    MISSING = "missing"  # no such file or function
    IMPORT_ERROR = "import_error"
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # the worker ended
    PROTOCOL = "protocol"  # the reply was not a result
    SKIPPED = "skipped"  # not run: the function hangs, or one below it does
    BUDGET = "budget"  # not run: the submission's time budget is spent


_FROM_WORKER = {CallStatus.OK, CallStatus.RAISED, CallStatus.MISSING, CallStatus.IMPORT_ERROR, CallStatus.PROTOCOL}


@dataclass
class Outcome:
    """What happened when the submission was asked to do one thing."""

    status: CallStatus
    value: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    args_after: list[Any] = field(default_factory=list)
    aliases: bool = False
    warnings: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    phase: str = "call"

    @property
    def ok(self) -> bool:
        return self.status is CallStatus.OK

    @classmethod
    def from_reply(cls, reply: dict[str, Any], phase: str, args: Sequence[Any] = ()) -> "Outcome":
        """The outcome a worker reported; anything it may not report is a protocol failure. A call's arguments
        come back (``args_after``) only when the call changed them: else they are the ``args`` sent. Every string
        the worker sent is made valid text here (lone surrogates replaced), once for every writer."""
        known = {k: wire.valid_data(reply[k]) for k in ("value", "error", "message", "args_after", "aliases",
                                                         "warnings", "seconds") if k in reply}
        if "args_after" not in known:
            known["args_after"] = list(args)
        try:
            status = CallStatus(reply.get("status"))
        except ValueError:
            status = None
        if status not in _FROM_WORKER:
            return cls(CallStatus.PROTOCOL, phase=phase,
                       message=f"the worker answered with status "
                               f"{wire.valid_text(wire.safe_str(reply.get('status'), 40))!r}")
        return cls(status, **known, phase=phase)


def stage(submission: Path, into: Path, group: int | None = None) -> list[str]:
    """Copy the submission's Python files (never through a symlink) into ``into``; notes on what was left out.

    The worker imports the copy, so it never reads the original folder. The
    copy is its owner's alone, or, with ``group`` (as root), readable by that
    group (the submission's workers) and no one else, and writable by none of
    its workers.
    """
    notes: list[str] = []
    max_files, max_bytes = STAGED_LIMITS
    copied = size = 0
    for path, linked in submitted_files(submission):
        relative = path.relative_to(submission)
        if path.suffix != ".py":
            continue
        if linked:
            notes.append(f"{relative} is a symbolic link; it was left out (submit the file itself)")
            continue
        if copied >= max_files or size + path.stat().st_size > max_bytes:
            notes.append(f"{relative} was left out: a submission holds at most {max_files} Python files "
                         f"and {max_bytes // 2**20} MB")
            continue
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied += 1
        size += path.stat().st_size
    folder_mode, file_mode = (0o750, 0o640) if group is not None else (0o700, 0o600)
    for folder, _, files in os.walk(into):
        _own(folder, folder_mode, group)
        for name in files:
            _own(os.path.join(folder, name), file_mode, group)
    return notes


def _own(path: str, mode: int, group: int | None, user: int = 0) -> None:
    if group is not None:
        os.chown(path, user, group)
    os.chmod(path, mode)


class _Process:
    """One worker process as the grader talks to it: requests sent and whole reply frames read within their
    time (``launch`` started it; its ``transcript`` holds what it printed and the stacks it wrote)."""

    def __init__(self, submission: Path, limits: Limits, wall: Any, identity: Any, lane: str,
                 template: Any = None) -> None:
        self.limits = limits
        self._received = bytearray()  # what the worker wrote that is not a whole frame yet
        self.refused = ""  # why the last frame the worker sent was refused (wire.WireError's message)
        options = ["--submission", str(submission), "--memory-mb", str(limits.memory_mb),
                   "--output-mb", str(limits.output_mb), "--stack-after", str(stack_after(limits.timeout)),
                   *isolation.options(wall, identity, lane)]
        self._cwd = tempfile.TemporaryDirectory(prefix="gatelab-worker-")  # the worker's own, and only its own
        if identity is not None:
            _own(self._cwd.name, 0o700, identity.gid, identity.uids[lane])
        child_in, to_child = os.pipe()
        from_child, child_out = os.pipe()
        started = launch(options, self._cwd.name, child_in, child_out, template)
        self.process: Any = started.process
        self._files = started.files
        self.transcript = Transcript(started.output, started.stacks, submission, limits, shared=started.files is None)
        self.pipes: Any = (pipes.ThreadPipes(to_child, from_child) if started.files is not None
                           else pipes.SelectPipes(to_child, from_child))
        os.close(child_in)
        os.close(child_out)
        self.modules: set[str] = set()
        self.spent = 0.0  # seconds of active time (see ``clock``) its requests used
        self.stopped_by = ""  # why the last request was stopped: active, backstop or until (Allowance.spent)
        self.allowance = Allowance(limits.timeout)  # what the last request was allowed

    def _next_frame(self, allowance: Allowance, watch: Stopwatch, until: float = math.inf) -> bytes | str:
        """The payload of the next whole frame from the worker, or ``timeout`` once the request is over its
        ``allowance`` (``self.stopped_by`` says how) or past ``until`` (``time.monotonic()``), or ``crashed``;
        raises ``wire.WireError`` for a frame over the size limit."""
        while True:
            if len(self._received) >= 4:
                length = wire.frame_length(bytes(self._received[:4]))
                if len(self._received) >= 4 + length:
                    payload = bytes(self._received[4:4 + length])
                    del self._received[:4 + length]
                    return payload
            wait = allowance.limit - watch.wall() if not watch.counts_cpu else POLL
            chunk: bytes | str = self.pipes.receive(min(time.monotonic() + max(wait, 0.0), until))
            if chunk == pipes.TIMEOUT:
                self.stopped_by = "until" if time.monotonic() >= until else allowance.spent(watch)
                if self.stopped_by:
                    return chunk
                continue
            if isinstance(chunk, str):
                return chunk
            self._received += chunk

    def _watch(self) -> Stopwatch:
        """A stopwatch for a request sent now; what it counts is added to ``spent`` by :meth:`_done`."""
        self.stopped_by = ""
        return Stopwatch(self.process.pid)

    def _done(self, watch: Stopwatch) -> None:
        self.spent += watch.active()

    def request(self, message: dict[str, Any], allowance: Allowance,
                parts: Mapping[str, PartServer] | None = None, until: float = math.inf) -> dict[str, Any] | str:
        """The worker's reply, or the status string ``timeout``/``crashed``/``protocol`` on failure.

        While the call runs, the worker may ask for the value of a part named
        in ``parts``; each such request is answered here, in the trusted
        process, and the time the worker waits for it is not counted.
        """
        self.allowance = allowance
        watch = self._watch()
        self.pipes.send(wire.encode(message))  # trusted arguments: an error here is ours
        try:
            return self._replies_to(watch, allowance, parts or {}, until)
        finally:
            self._done(watch)

    def _replies_to(self, watch: Stopwatch, allowance: Allowance, parts: Mapping[str, PartServer],
                    until: float) -> dict[str, Any] | str:
        served = 0
        while True:
            try:
                payload = self._next_frame(allowance, watch, until)
                if isinstance(payload, str):
                    return payload
                reply = wire.decode(payload)
            except wire.WireError as exc:
                self.refused = str(exc)
                return "protocol"
            if reply.get("op") != "part":
                return reply
            served += 1
            if served > MAX_PART_CALLS:
                return "protocol"
            watch.pause()
            self.pipes.send(wire.encode(_serve_part(reply, parts)))
            watch.resume()

    def pipeline(self, messages: list[dict[str, Any]], limit: float, budget: float = math.inf,
                 until: float = math.inf) -> list[dict[str, Any] | str]:
        """Send ``messages`` at once and read their replies in order: one round trip instead of one per call.

        The worker answers requests one after another, so each reply must come
        within ``limit`` seconds of active time (see ``clock``) of the one
        before, all of them within ``budget``, and before ``until`` (a
        ``time.monotonic()`` time). The first failure (``timeout``, ``crashed``
        or ``protocol``, as for :meth:`request`) ends the list: the worker is
        then to be replaced, and the calls after it were not answered. No
        parts are served here: a part request is a protocol failure.
        """
        if not messages:
            return []
        self.pipes.send(b"".join(wire.encode(m) for m in messages))  # trusted arguments
        replies: list[dict[str, Any] | str] = []
        while len(replies) < len(messages):
            self.allowance = Allowance.within(limit, budget - self.spent)
            watch = self._watch()
            try:
                payload = self._next_frame(self.allowance, watch, until)
                if isinstance(payload, str):
                    return [*replies, payload]
                reply = wire.decode(payload)
            except wire.WireError as exc:
                self.refused = str(exc)
                return [*replies, "protocol"]
            finally:
                self._done(watch)
            if reply.get("op") == "part":
                return [*replies, "protocol"]
            replies.append(reply)
        if self._received:  # more than one frame per request: the worker writes frames of its own making
            return [*replies[:-1], "protocol"]
        return replies

    def ending(self) -> tuple[str, dict[str, Any]]:
        """How the worker ended, in words, and as an outcome's ``error``: the name of the ``signal`` that
        killed it (empty when none did) and the submission's ``frames`` where it ended, when it wrote them."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "stopped answering", {}
        error = {"signal": "", "frames": self.transcript.where_ended()}
        if code < 0:
            error["signal"] = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            if error["signal"] == "SIGXFSZ":
                return f"was stopped for printing more than {self.limits.output_mb} MB", error
            return f"was killed by signal {error['signal']}", error
        if code == confine.EXIT_UNCONFINED:
            return ("could not be started behind the grader's wall (the grader's fault, not yours: tell your "
                    "instructor)"), {}
        return f"ended the process with exit code {code}", error

    def kill(self) -> None:
        self.pipes.close()
        if self.process.poll() is None:
            kill_tree(self.process)
        try:  # reaped: a started worker here, a forked one by its template, which says so at once
            self.process.wait(timeout=10 if isinstance(self.process, subprocess.Popen) else 1)
        except subprocess.TimeoutExpired:
            pass
        self.transcript.close()
        self._cwd.cleanup()
        if self._files is not None:
            self._files.cleanup()


def _replied(process: _Process, reply: dict[str, Any], phase: str, args: Sequence[Any]) -> Outcome:
    """The outcome of a request the worker answered, with what its call printed."""
    outcome = Outcome.from_reply(reply, phase, args)
    outcome.output = process.transcript.take_output(reply.get("printed_to"))
    return outcome


def stack_after(timeout: float) -> float:
    """When a call's stack is written down: shortly before the grader stops it at ``timeout``."""
    return max(timeout * 0.8, timeout - 0.5)


def _serve_part(message: dict[str, Any], parts: Mapping[str, PartServer]) -> dict[str, Any]:
    """The reply to a worker's request for a part's value: the value, or why it is refused."""
    qualname, args, kwargs = message.get("part"), message.get("args"), message.get("kwargs") or {}
    if not isinstance(qualname, str) or qualname not in parts:
        return {"status": "refused", "message": f"{wire.safe_str(qualname, 80)} is not served by the grader now"}
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        return {"status": "refused", "message": f"malformed request for {qualname}"}
    if sum(a.size for a in wire.arrays_in([args, kwargs])) > MAX_PART_ELEMENTS:
        return {"status": "refused", "message": f"the arguments given to {qualname} are far too large"}
    try:
        return {"status": "ok", "value": parts[qualname](*args, **kwargs)}
    except PartRefused as exc:  # not of the contract's shapes: never computed
        return {"status": "refused", "message": f"the grader refused: {qualname} was {exc}"}
    except Exception as exc:  # the student's arguments do not suit the reference part
        return {"status": "refused", "message": f"the grader's {qualname} could not run on these arguments: "
                                                f"{type(exc).__name__}: {wire.safe_str(exc, 200)}"}


PUBLIC, HIDDEN = "public", "hidden"


def _refuse_reachable(forbid: Sequence[Path]) -> None:
    """Refuse to grade where a worker could read a folder of the assignment (it lies in the interpreter's
    folders, which every worker reads): the reference and hidden tests would be the student's."""
    roots = confine.interpreter_roots()
    for path in forbid:
        real = os.path.realpath(path)
        inside = [r for r in roots if real == r or real.startswith(r + os.sep)]
        if inside:
            raise isolation.IsolationError(
                f"the assignment folder {path} lies inside {inside[0]}, which every worker may read; move the "
                "assignment out of the Python installation")


class Sandbox:
    """Calls into one submission folder, each in a worker process of its own making.

    Calls go down one of two *lanes*, each with workers of its own: what a
    student sees (public cases) is never computed by a process that has seen a
    hidden case's inputs, so nothing it printed or remembered can leak them.
    """

    def __init__(self, submission: Path, limits: Limits = Limits(), forbid: Sequence[Path] = (),
                 template: Any = None) -> None:
        self.submission = Path(submission).resolve()
        self.template = template  # a forkserver.Template to fork workers from, or None: start each
        self.limits = limits
        self.forbid = tuple(Path(p).resolve() for p in forbid)  # the assignment: never readable by a worker
        self.wall = isolation.wall()
        self._identity: isolation.Identity | None = None
        self._processes: dict[str, _Process] = {}
        self._broken: dict[str, Outcome] = {}
        self._timeouts: dict[tuple[str, str], int] = {}
        self._staged: tempfile.TemporaryDirectory[str] | None = None
        self._until = math.inf  # the budget's wall-clock backstop (BACKSTOP times it), set when grading starts
        self._spent = 0.0  # seconds of active time used by the workers already stopped
        self.notes: list[str] = []  # what the student should know about their folder (files left out)
        self.limits_hit: list[str] = []  # "module.function: timeout", for the class summary
        self.spawned = 0

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self, lane: str = PUBLIC) -> None:
        """Start a worker for ``lane`` now, so its start-up overlaps the grader's own."""
        if self._staged is None:
            non_dumpable()  # this grading process: a worker of the same user cannot read it
            _refuse_reachable(self.forbid)
            self._identity = isolation.lease((PUBLIC, HIDDEN)) if self.wall.root else None
            self._staged = tempfile.TemporaryDirectory(prefix="gatelab-submission-")
            self.notes = stage(self.submission, Path(self._staged.name), self._group)
            self._until = time.monotonic() + self.limits.budget * BACKSTOP
        if lane not in self._processes:
            self._processes[lane] = _Process(Path(self._staged.name), self.limits, self.wall, self._identity, lane,
                                             self.template)
            self.spawned += 1

    @property
    def _group(self) -> int | None:
        return self._identity.gid if self._identity is not None else None

    def restage(self) -> None:
        """Copy the submission again, for workers started ahead of time that have imported none of it yet.

        ``grade check --watch`` keeps such a sandbox ready: on a save, the
        files are staged as they are now and the waiting worker, its
        interpreter and numpy already loaded, imports them fresh.
        """
        if any(p.modules for p in self._processes.values()) or self._broken or self._timeouts:
            raise RuntimeError("restage() is only for a sandbox that has run nothing yet")
        if self._staged is None:
            return
        staged = Path(self._staged.name)
        for child in staged.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        self.notes = stage(self.submission, staged, self._group)
        self._until = time.monotonic() + self.limits.budget * BACKSTOP

    def close(self) -> None:
        for lane in list(self._processes):
            self._stop_process(lane)
        if self._staged is not None:
            self._staged.cleanup()
            self._staged = None
        if self._identity is not None:
            self._identity.release()
            self._identity = None

    def struck(self, qualname: str, lane: str = PUBLIC) -> bool:
        """Whether ``qualname`` ran past the time limit often enough not to be called again in ``lane``.

        Timeouts in the public lane count in the hidden lane too (a function that hangs on what the student
        sees is not given the hidden cases' time limits as well); never the other way round, so that nothing
        a student sees depends on a hidden case.
        """
        return self._strikes(qualname, lane) >= self.limits.strikes

    def _strikes(self, qualname: str, lane: str) -> int:
        own = self._timeouts.get((lane, qualname), 0)
        return own + self._timeouts.get((PUBLIC, qualname), 0) if lane != PUBLIC else own

    def call(self, module: str, function: str, args: Sequence[Any],
             parts: Mapping[str, PartServer] | None = None, lane: str = PUBLIC) -> Outcome:
        """Run ``module.function(*args)`` in a worker of ``lane``; never raises for what the student did.

        With ``parts``, the function's calls to those parts (by qualified
        name) are answered by the given trusted functions instead of the
        student's own.
        """
        qualname = f"{module}.{function}"
        if module in self._broken:
            return self._broken[module]
        if self.struck(qualname, lane):
            strikes = self._strikes(qualname, lane)
            return Outcome(CallStatus.SKIPPED, phase="call", message=(
                f"not run: {qualname} already ran past the {self.limits.timeout:g} s time limit "
                + ("once" if strikes == 1 else f"{strikes} times")))
        if lane in self._processes and self._processes[lane].transcript.output_is_full():
            self._stop_process(lane)  # its later prints would fail; a fresh worker gets a fresh file
        self.start(lane)
        if self._remaining() <= 0:
            return self._out_of_budget()
        imported = self._import(lane, module)
        if imported is not None and not imported.ok:
            return imported
        pending_output = imported.output if imported is not None else ""
        request = {"op": "call", "module": module, "function": function, "args": list(args)}
        if parts:
            request["serve"] = sorted(parts)
        outcome = self._send(lane, request, "call", parts)
        outcome.output = pending_output + outcome.output
        return self._counted(lane, qualname, outcome)

    def _import(self, lane: str, module: str) -> Outcome | None:
        """Import ``module`` in the lane's worker if it has not yet: the import's outcome (a failed one is kept
        for every later call into the module), or None when it was imported before."""
        process = self._processes[lane]
        if module in process.modules:
            return None
        outcome = self._send(lane, {"op": "import", "module": module}, "import")
        if outcome.ok:
            process.modules.add(module)
        elif outcome.status is not CallStatus.BUDGET:
            self._broken[module] = outcome
        return outcome

    def _counted(self, lane: str, qualname: str, outcome: Outcome) -> Outcome:
        """``outcome`` of a call of ``qualname``, its timeout counted as a strike and any limit it hit noted."""
        if outcome.status is CallStatus.TIMEOUT:
            self._timeouts[lane, qualname] = self._timeouts.get((lane, qualname), 0) + 1
        self._note_limit(qualname, outcome)
        return outcome

    def _note_limit(self, qualname: str, outcome: Outcome) -> None:
        hit = {CallStatus.TIMEOUT: "time limit", CallStatus.BUDGET: "time budget", CallStatus.CRASHED: "crashed",
               CallStatus.PROTOCOL: "result too large or malformed"}.get(outcome.status)
        if outcome.status is CallStatus.RAISED and outcome.error.get("type") == "MemoryError":
            hit = "memory limit"
        if hit and f"{qualname}: {hit}" not in self.limits_hit:
            self.limits_hit.append(f"{qualname}: {hit}")

    def _remaining(self) -> float:
        """Seconds of active time left of the submission's budget (none once its wall-clock backstop passed)."""
        if time.monotonic() >= self._until:
            return 0.0
        return self.limits.budget - self._spent - sum(p.spent for p in self._processes.values())

    def _out_of_budget(self) -> Outcome:
        return Outcome(CallStatus.BUDGET, message=f"not run: the submission used up its {self.limits.budget:g} s "
                                         "time budget for all its calls")

    def _timeout_message(self, process: _Process) -> str:
        """Why a call was stopped: its time limit, or the wall-clock backstop on a machine too busy to run it."""
        said = f"ran past the {self.limits.timeout:g} s time limit"
        if process.stopped_by != "backstop":
            return said
        return (f"{said} on the clock ({process.allowance.limit * BACKSTOP:g} s) before it had run that long: the "
                "grading machine was too busy to give it its time (not your code's fault: tell your instructor)")

    def _stop_process(self, lane: str) -> None:
        process = self._processes.pop(lane, None)
        if process is not None:
            self._spent += process.spent
            process.kill()

    def call_many(self, calls: Sequence[tuple[str, str, Sequence[Any]]], lane: str = PUBLIC) -> list[Outcome | None]:
        """Several calls (module, function, args; no parts served), in this order, in one round trip.

        The first is made with :meth:`call` (it starts a worker if need be);
        then every module the others call into is imported, and the calls
        that can be made (module imported, function not struck) are sent to
        the worker together, each reply due within the time limit of the one
        before and all before the budget ends. An entry is None where a call
        was not made (after a failure, or when it could not be sent): make it
        with :meth:`call`, which keeps every rule (strikes, budget).
        """
        outcomes: list[Outcome | None] = [None] * len(calls)
        if not calls:
            return outcomes
        module, function, args = calls[0]
        outcomes[0] = self.call(module, function, args, lane=lane)
        imported: dict[str, str] = {}  # what each module printed while it was imported, for its first call
        for name in dict.fromkeys(m for m, _, _ in calls[1:]):
            if lane not in self._processes or name in self._broken:
                continue
            outcome = self._import(lane, name)
            if outcome is not None and outcome.status is CallStatus.BUDGET:
                return outcomes
            if outcome is not None and outcome.ok:
                imported[name] = outcome.output
        process = self._processes.get(lane)
        if process is None or process.transcript.output_is_full():
            return outcomes
        sent = [i for i, (m, f, _) in enumerate(calls) if i and m in process.modules and m not in self._broken
                and not self.struck(f"{m}.{f}", lane)]
        replies = process.pipeline([{"op": "call", "module": calls[i][0], "function": calls[i][1],
                                     "args": list(calls[i][2])} for i in sent], self.limits.timeout,
                                   process.spent + self._remaining(), self._until)
        for index, reply in zip(sent, replies):
            module, function, args = calls[index]
            if isinstance(reply, dict):
                outcome = _replied(process, reply, "call", args)
                outcome.output = imported.pop(module, "") + outcome.output
            else:
                outcome = self._failed(lane, process, reply, "call")
            outcomes[index] = self._counted(lane, f"{module}.{function}", outcome)
        return outcomes

    def _send(self, lane: str, message: dict[str, Any], phase: str,
              parts: Mapping[str, PartServer] | None = None) -> Outcome:
        process = self._processes[lane]
        fresh = not process.modules and phase == "import"
        limit = self.limits.timeout + (STARTUP_SECONDS if fresh else 0.0)
        reply = process.request(message, Allowance.within(limit, self._remaining()), parts, self._until)
        if isinstance(reply, dict):
            return _replied(process, reply, phase, message.get("args", ()))
        return self._failed(lane, process, reply, phase)

    def _failed(self, lane: str, process: _Process, reply: str, phase: str) -> Outcome:
        """The outcome of a request that got no reply (``timeout``, ``crashed``, ``protocol``); the worker
        is replaced."""
        if reply == "timeout" and (process.allowance.budget_binds or process.stopped_by == "until"):
            outcome = self._out_of_budget()
            outcome.message = outcome.message.replace("not run", "stopped")
            outcome.phase = phase
        elif reply == "timeout":
            outcome = Outcome(CallStatus.TIMEOUT, phase=phase, error={"frames": process.transcript.where_stopped()},
                              message=self._timeout_message(process))
        elif reply == "crashed":
            message, error = process.ending()
            outcome = Outcome(CallStatus.CRASHED, phase=phase, message=message, error=error)
        else:
            why = f": {process.refused}" if process.refused else " (or more than the size limit)"
            outcome = Outcome(CallStatus.PROTOCOL, phase=phase,
                              message=f"sent back something that is not a result{why}")
        outcome.output = process.transcript.take_output()
        self._stop_process(lane)
        return outcome
