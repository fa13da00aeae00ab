"""A warm worker template: one process, numpy and the worker's code already loaded, that forks a fresh
worker for each request, so a batch does not pay an interpreter's start-up per worker.

Every worker is still new (forked from a template that never imports a
submission, never reused for another), with its own session, user, limits
and audit hook, exactly as a worker started on its own (``worker.main``).
Used where ``os.fork`` and descriptor passing exist (Linux, macOS); a
sandbox without a template starts its workers with ``subprocess``.
"""
from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Sequence

from gatelab.grading import wire

_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from gatelab.grading.template import template; template()"


def available() -> bool:
    """Whether workers are forked from a template: the OS can (fork, and descriptors passed over a local
    socket) and the portable path is not asked for (``GATELAB_SANDBOX=portable``)."""
    from gatelab.grading.launch import sandbox_mode

    return hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX") \
        and sandbox_mode() == "posix"


def start() -> "Template | None":
    """A template for this process's sandboxes, or None where the OS cannot run one (workers are then
    started one by one). Its environment is a worker's; each child gets its own folder as HOME."""
    if not available():
        return None
    from gatelab.grading.launch import worker_environment

    return Template(worker_environment(tempfile.gettempdir()))


class Template:
    """The grader's end of a template process; :meth:`fork` starts one worker and returns it, Popen-like."""

    def __init__(self, env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control = ours
        self._lock = threading.Lock()
        self._ended: dict[int, int] = {}  # pid -> exit status, as the template told them
        self._requests = 0
        root = str(Path(__file__).resolve().parents[2])
        self._cwd = Path(env.get("HOME", "/"))
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-u", "-c", _BOOTSTRAP.format(root=root), str(theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), cwd=self._cwd, env=env, start_new_session=True)
        theirs.close()

    def fork(self, options: Sequence[str], fds: Sequence[int], timeout: float = 30.0) -> "Forked":
        """A new worker with ``options`` (``worker`` command-line options without descriptors) and ``fds``:
        its input pipe, output pipe, output file and stack file. Each request is numbered and the template's
        reply names it, so a reply left unread by an interrupted request is never taken for a later one's."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise OSError("the worker template is busy")
        try:
            self._requests += 1
            number = self._requests
            socket.send_fds(self._control, [wire.encode({"argv": list(options), "request": number})], list(fds))
            while True:
                reply = self._receive(deadline)
                if reply is None:
                    raise OSError("the worker template did not answer")
                if reply.get("request") != number:
                    continue  # an exit notice, or the answer to a request that was given up
                if "pid" in reply:
                    return Forked(self, int(str(reply["pid"])))
                raise OSError(f"the worker template refused: {wire.safe_str(reply.get('error'))}")
        finally:
            self._lock.release()

    def status(self, pid: int, timeout: float) -> int | None:
        """The exit status of a worker it forked, once the template reports it (None: not ended yet)."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=max(timeout, 0.05)):  # another thread talks to the template
            return self._ended.get(pid)
        try:
            while pid not in self._ended and self._receive(deadline) is not None:
                pass
            return self._ended.get(pid)
        finally:
            self._lock.release()

    def _receive(self, deadline: float) -> dict[str, object] | None:
        """The template's next message (an exit notice is also kept in ``_ended``); None at the deadline."""
        ready, _, _ = select.select([self._control], [], [], max(0.0, deadline - time.monotonic()))
        data = self._control.recv(1 << 16) if ready else b""
        if not data:
            return None
        reply = wire.decode(data[4:])
        if "exit" in reply:
            self._ended[int(str(reply["exit"]))] = int(str(reply["status"]))
        return reply

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self._control.close()  # the template ends when it reads the end of its socket
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Forked:
    """A worker the template forked, with the parts of ``subprocess.Popen`` the sandbox uses."""

    def __init__(self, template: Template, pid: int) -> None:
        self.template = template
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.template.status(self.pid, 0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.template.status(self.pid, 10.0 if timeout is None else timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 10.0)
        return self.returncode

    def kill(self) -> None:
        try:
            os.killpg(self.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
