"""The trusted side of isolation: spawn, feed, time and replace student workers.

Every call into a submission goes through :class:`Sandbox`. Whatever the
student's code does (hang, exit, crash, exhaust memory, print megabytes),
the call comes back as an :class:`Outcome` and the next call gets a fresh
worker if it needs one. A module whose import fails is remembered, so a
syntax error costs that module's tests at once instead of a worker per test.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from gatelab import wire

STARTUP_SECONDS = 3.0  # allowed on top of the limit for a new worker's own start-up (numpy import)
_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from gatelab.worker import main; main()"


@dataclass(frozen=True)
class Limits:
    """What one call may use. ``strikes``: timeouts after which a function is no longer called."""

    timeout: float = 5.0
    memory_mb: int = 1024
    output_chars: int = 2000
    output_mb: int = 8
    strikes: int = 2


@dataclass
class Outcome:
    """What happened when the submission was asked to do one thing.

    ``status`` is one of ``ok``, ``raised``, ``missing``, ``import_error``,
    ``timeout``, ``crashed``, ``protocol`` or ``skipped``.
    """

    status: str
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
        return self.status == "ok"

    @classmethod
    def from_reply(cls, reply: dict[str, Any], phase: str) -> "Outcome":
        known = {k: reply[k] for k in ("status", "value", "error", "message", "args_after",
                                        "aliases", "warnings", "seconds") if k in reply}
        outcome = cls(**known, phase=phase)
        if outcome.status not in {"ok", "raised", "missing", "import_error", "protocol"}:
            return cls("protocol", message=f"the worker answered with status {outcome.status!r}", phase=phase)
        return outcome


class _Process:
    """One worker process, its two pipes and the file its output goes to."""

    def __init__(self, submission: Path, limits: Limits, forbid: Sequence[Path]) -> None:
        self.limits = limits
        self.output = tempfile.TemporaryFile()
        self._offset = 0
        child_in, self._to_child = os.pipe()
        self._from_child, child_out = os.pipe()
        root = str(Path(__file__).resolve().parent.parent)
        command = [sys.executable, "-c", _BOOTSTRAP.format(root=root), "--submission", str(submission),
                   "--in-fd", str(child_in), "--out-fd", str(child_out),
                   "--memory-mb", str(limits.memory_mb), "--output-mb", str(limits.output_mb)]
        for path in forbid:
            command += ["--forbid", str(path)]
        self._cwd = tempfile.TemporaryDirectory(prefix="gatelab-worker-")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        env.pop("PYTHONPATH", None)
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self.output, stderr=subprocess.STDOUT,
            pass_fds=(child_in, child_out), cwd=self._cwd.name, env=env, start_new_session=True,
        )
        os.close(child_in)
        os.close(child_out)
        self.modules: set[str] = set()

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any] | str:
        """The worker's reply, or the status string ``timeout``/``crashed``/``protocol`` on failure."""
        frame = wire.encode(message)  # trusted arguments: an error here is the grader's own
        try:
            view = memoryview(frame)
            while view:
                view = view[os.write(self._to_child, view):]
        except (BrokenPipeError, OSError):
            return "crashed"
        deadline = time.monotonic() + timeout
        try:
            prefix = self._read(4, deadline)
            if isinstance(prefix, str):
                return prefix
            payload = self._read(wire.frame_length(prefix), deadline)
            if isinstance(payload, str):
                return payload
            return wire.decode(payload)
        except wire.WireError:
            return "protocol"

    def _read(self, count: int, deadline: float) -> bytes | str:
        chunks = []
        while count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([self._from_child], [], [], remaining)
            if not ready:
                return "timeout"
            chunk = os.read(self._from_child, min(count, 1 << 20))
            if not chunk:
                return "crashed"
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def take_output(self) -> str:
        """What the worker printed since the last call, cut to the configured length."""
        self.output.flush()
        end = os.fstat(self.output.fileno()).st_size
        limit = self.limits.output_chars
        self.output.seek(self._offset)
        data = self.output.read(min(end - self._offset, limit * 4))
        cut = end - self._offset > len(data)
        self._offset = end
        text = data.decode("utf-8", errors="replace")
        if len(text) > limit or cut:
            text = text[:limit] + f"\n... (output cut at {limit} characters)"
        return text

    def output_is_full(self) -> bool:
        return self._offset * 2 > self.limits.output_mb * 1024 * 1024

    def exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            if name == "SIGXFSZ":
                return f"was stopped for printing more than {self.limits.output_mb} MB"
            return f"was killed by signal {name}"
        return f"ended the process with exit code {code}"

    def kill(self) -> None:
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        self.output.close()
        self._cwd.cleanup()


class Sandbox:
    """Calls into one submission folder, each in a worker process of its own making."""

    def __init__(self, submission: Path, limits: Limits = Limits(), forbid: Sequence[Path] = ()) -> None:
        self.submission = Path(submission).resolve()
        self.limits = limits
        self.forbid = tuple(Path(p).resolve() for p in forbid)
        self._process: _Process | None = None
        self._broken: dict[str, Outcome] = {}
        self._timeouts: dict[str, int] = {}
        self.spawned = 0

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start a worker now, so its start-up overlaps the grader's own."""
        if self._process is None:
            self._process = _Process(self.submission, self.limits, self.forbid)
            self.spawned += 1

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None

    def call(self, module: str, function: str, args: Sequence[Any]) -> Outcome:
        """Run ``module.function(*args)`` in a worker; never raises for what the student did."""
        qualname = f"{module}.{function}"
        if module in self._broken:
            return self._broken[module]
        if self._timeouts.get(qualname, 0) >= self.limits.strikes:
            return Outcome("skipped", phase="call", message=(
                f"not run: {qualname} already ran past the {self.limits.timeout:g} s time limit "
                f"{self._timeouts[qualname]} times"))
        if self._process is not None and self._process.output_is_full():
            self.close()  # its later prints would fail; a fresh worker gets a fresh file
        self.start()
        assert self._process is not None
        if module not in self._process.modules:
            outcome = self._send({"op": "import", "module": module}, "import")
            if not outcome.ok:
                self._broken[module] = outcome
                return outcome
            self._process.modules.add(module)
            pending_output = outcome.output
        else:
            pending_output = ""
        outcome = self._send({"op": "call", "module": module, "function": function, "args": list(args)}, "call")
        outcome.output = pending_output + outcome.output
        if outcome.status == "timeout":
            self._timeouts[qualname] = self._timeouts.get(qualname, 0) + 1
        return outcome

    def _send(self, message: dict[str, Any], phase: str) -> Outcome:
        process = self._process
        assert process is not None
        fresh = not process.modules and phase == "import"
        reply = process.request(message, self.limits.timeout + (STARTUP_SECONDS if fresh else 0.0))
        if isinstance(reply, dict):
            outcome = Outcome.from_reply(reply, phase)
            outcome.output = process.take_output()
            return outcome
        if reply == "timeout":
            outcome = Outcome("timeout", phase=phase, message=f"ran past the {self.limits.timeout:g} s time limit")
        elif reply == "crashed":
            outcome = Outcome("crashed", phase=phase, message=process.exit_description())
        else:
            outcome = Outcome("protocol", phase=phase, message="sent back something that is not a result "
                                                                "(or more than the size limit)")
        outcome.output = process.take_output()
        process.kill()
        self._process = None
        return outcome
