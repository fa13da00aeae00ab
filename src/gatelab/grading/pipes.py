"""The two pipes between the grader and one worker, written and read with deadlines.

The sandbox sends request frames with :meth:`send` (never blocking: a worker
that stops reading cannot stall the grader) and reads what comes back with
:meth:`receive`, which waits until a deadline at most. Two ways to do that:

- :class:`SelectPipes` waits on the pipes themselves with ``select``
  (POSIX, where ``select`` takes pipes);
- :class:`ThreadPipes` reads and writes in two threads of its own and waits
  on a queue: it needs nothing but blocking reads and writes, so it works on
  every OS (Windows's ``select`` takes only sockets). It is the portable
  path's (``GATELAB_SANDBOX=portable``).

Either way, once the worker stops reading, what is still to be sent is
dropped and what it wrote before is still read; once it closes its end (or
dies), :meth:`receive` says ``crashed``.
"""
from __future__ import annotations

import os
import queue
import select
import threading
import time

CHUNK = 1 << 20
CRASHED, TIMEOUT = "crashed", "timeout"


class SelectPipes:
    """Pipes waited on with ``select`` (POSIX)."""

    def __init__(self, to_child: int, from_child: int) -> None:
        self._to_child = to_child
        self._from_child = from_child
        os.set_blocking(to_child, False)  # writes wait with a deadline, never forever
        self._pending = memoryview(b"")
        self._ended = False

    def send(self, data: bytes) -> None:
        """Queue ``data`` for the worker; it is written while :meth:`receive` waits."""
        self._pending = memoryview(bytes(self._pending) + data) if self._pending else memoryview(data)

    def receive(self, deadline: float) -> bytes | str:
        """The next bytes from the worker, or ``timeout`` at ``deadline`` (``time.monotonic()``), or
        ``crashed`` once it closed its end."""
        while not self._ended:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return TIMEOUT
            readable, writable, _ = select.select([self._from_child], [self._to_child] if self._pending else [],
                                                  [], remaining)
            if writable:
                try:
                    self._pending = self._pending[os.write(self._to_child, self._pending):]
                except BlockingIOError:
                    pass
                except OSError:  # the worker stopped reading: the replies it wrote before are still to be read
                    self._pending = memoryview(b"")
            if readable:
                try:
                    chunk = os.read(self._from_child, CHUNK)
                except OSError:
                    chunk = b""
                if chunk:
                    return chunk
                self._ended = True
        return CRASHED

    def close(self) -> None:
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass


class ThreadPipes:
    """Pipes read and written by two daemon threads (any OS): :meth:`receive` waits on a queue."""

    def __init__(self, to_child: int, from_child: int) -> None:
        self._to_child = to_child
        self._from_child = from_child
        self._outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._incoming: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._ended = False
        threading.Thread(target=self._write, daemon=True, name="gatelab-pipe-writer").start()
        threading.Thread(target=self._read, daemon=True, name="gatelab-pipe-reader").start()

    def _write(self) -> None:
        broken = False
        while (data := self._outgoing.get()) is not None:
            view = memoryview(data)
            while view and not broken:
                try:
                    view = view[os.write(self._to_child, view):]
                except OSError:  # the worker stopped reading: drop what is left, keep reading its replies
                    broken = True
        try:
            os.close(self._to_child)
        except OSError:
            pass

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._from_child, CHUNK)
            except OSError:
                chunk = b""
            self._incoming.put(chunk)
            if not chunk:
                break
        try:
            os.close(self._from_child)
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        self._outgoing.put(data)

    def receive(self, deadline: float) -> bytes | str:
        if self._ended:
            return CRASHED
        try:
            chunk = self._incoming.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return TIMEOUT
        if not chunk:
            self._ended = True
            return CRASHED
        return chunk

    def close(self) -> None:
        """Stop the writer (it closes its pipe); the reader ends when the worker's end closes (it is killed)."""
        self._outgoing.put(None)
