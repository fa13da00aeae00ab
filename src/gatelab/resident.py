"""The check server itself (``python -m gatelab.resident``, started by ``gatelab.server``): what it keeps warm,
and how it runs one caller's ``grade check``.

The server runs the ``grade`` command itself, in its own process, for one
caller at a time: the caller's standard output and error become this
process's for the run (so isatty, colours and encoding are the caller's),
and so do its folder, environment and arguments; everything is put back
afterwards. What it keeps between checks is a :class:`~gatelab.grading.run.Warm`
per assignment (the pytest session with the tests collected, the remembered
right answers, the worker template, the question banks), made again when the
assignment's checksum changes. The student's code runs in a fresh worker for
every check, as in a check run alone.
"""
from __future__ import annotations

import io
import json
import os
import socket
import struct
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

from gatelab import server


def warm_up() -> None:
    """Import what a check needs, once, before the first caller waits for it."""
    import numpy  # noqa: F401
    import pytest  # noqa: F401

    import gatelab.cli  # noqa: F401
    import gatelab.grading.judge  # noqa: F401
    import gatelab.grading.session  # noqa: F401
    import gatelab.report.exporters.terminal  # noqa: F401


KEPT_ASSIGNMENTS = 3  # a student may switch between a few courses; each kept one holds a session and a template


class WarmStates:
    """The warm state of the assignments checked last, and the way to run a check in this process."""

    def __init__(self) -> None:
        from gatelab.grading.run import WarmCache

        self._cache = WarmCache(KEPT_ASSIGNMENTS)
        self.checks = 0

    def status(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "checks": self.checks, "assignments": self._cache.roots}

    def prepare(self, folder: str, assignment: str) -> None:
        """Make the assignment of a check run from ``folder`` warm now (before its next check asks)."""
        from gatelab.course import config
        from gatelab.errors import GatelabError

        try:
            self._cache.get(config.load(Path(folder, assignment) if assignment else config.find_root(Path(folder))))
        except (GatelabError, OSError):
            pass  # the next check says what is wrong

    def close(self) -> None:
        self._cache.close()

    def run(self, request: dict[str, Any], fds: list[int], gone: Callable[[], bool]) -> int:
        """Run ``grade <argv>`` as the caller would, writing to its ``fds``; the exit code."""
        from gatelab import cli

        self.checks += 1
        with _as_caller(request, fds, gone):
            try:
                cli.main(args=[str(a) for a in request["argv"]], prog_name="grade", obj={"warm": self._cache.get})
            except SystemExit as exc:
                return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception:  # noqa: BLE001 - re-raised by the command itself (GATELAB_DEBUG=1): shown as it would be
                traceback.print_exc()
                return 1
        return 0


class _as_caller:
    """For one run: the caller's output descriptors, streams, folder and environment; all put back after.
    While it runs, a caller that went away (Ctrl-C) gets its output sent to /dev/null instead."""

    def __init__(self, request: dict[str, Any], fds: list[int], gone: Callable[[], bool]) -> None:
        self.request, self.fds, self.gone = request, fds, gone
        self.done = threading.Event()

    def __enter__(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2), sys.stdout, sys.stderr, os.getcwd(), dict(os.environ), sys.argv)
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        try:
            self._become_caller()
        except BaseException:
            self.__exit__()
            raise
        self.watcher.start()

    def _become_caller(self) -> None:
        os.dup2(self.fds[0], 1)
        os.dup2(self.fds[1], 2)
        streams = self.request.get("streams") or [["utf-8", "strict", False]] * 2
        sys.stdout, sys.stderr = (_text(fd, *settings) for fd, settings in zip((1, 2), streams))
        os.chdir(str(self.request.get("cwd") or "/"))
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in (self.request.get("env") or {}).items()})
        sys.argv = ["grade", *map(str, self.request["argv"])]

    def _watch(self) -> None:
        while not self.done.wait(0.2):
            if self.gone():
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                os.close(null)
                return

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        if self.watcher.is_alive():
            self.watcher.join()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        out, err, sys.stdout, sys.stderr, cwd, env, sys.argv = self.saved
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)


def _text(fd: int, encoding: str, errors: str, line_buffering: bool) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=encoding, errors=errors,
                            line_buffering=line_buffering, write_through=True)


def serve(path: Path, idle: float = server.IDLE_SECONDS, first: tuple[str, str] | None = None) -> None:
    """Answer checks on ``path`` one after another until ``idle`` seconds pass without one; ``first`` (the
    folder and ``--assignment`` of the check that started it) names the assignment to make warm at once."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if server.answers(path):
        return  # another server got there first
    path.unlink(missing_ok=True)  # a dead server's socket
    os.umask(0o077)
    listener.bind(str(path))
    mine = path.stat().st_ino
    listener.listen(16)
    listener.settimeout(idle)
    warm_up()
    states = WarmStates()
    if first is not None:
        states.prepare(*first)
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                return
            with connection:
                if not _take(connection, states):
                    return
    finally:
        if path.exists() and path.stat().st_ino == mine:  # not a newer server's socket
            path.unlink(missing_ok=True)
        listener.close()
        states.close()


def _take(connection: socket.socket, states: WarmStates) -> bool:
    """Answer one connection; False when it asked the server to stop."""
    connection.setblocking(True)
    if not _same_user(connection):
        return True
    try:
        head, fds, _, _ = socket.recv_fds(connection, server.FRAME.size, 2)
        (length,) = server.FRAME.unpack(head) if len(head) == server.FRAME.size else (0,)
        body = b""
        while len(body) < length:
            chunk = connection.recv(length - len(body))
            if not chunk:
                break
            body += chunk
        request = json.loads(body or b"{}")
    except (OSError, ValueError):
        return True
    try:
        if request.get("stop"):
            connection.sendall(b'{"stopping": true}\n')
            return False
        if request.get("status"):
            connection.sendall(json.dumps(states.status()).encode() + b"\n")
            return True
        if len(fds) != 2 or not isinstance(request.get("argv"), list):
            return True
        connection.sendall(server.ACCEPTED)
        try:
            reply: dict[str, Any] = {"code": states.run(request, fds, lambda: _gone(connection))}
        except Exception:  # noqa: BLE001 - it could not act as the caller (its folder is gone, say)
            reply = {"local": True}  # before anything was written: the caller runs the check itself
        connection.sendall(json.dumps(reply).encode() + b"\n")
    except OSError:
        pass  # the caller left (Ctrl-C): its output went nowhere
    finally:
        for fd in fds:
            os.close(fd)
    return True


def _same_user(connection: socket.socket) -> bool:
    """On Linux, whether the caller runs as this server's user (elsewhere the private folder must do)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    credentials = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    return bool(uid == os.getuid())


def _gone(connection: socket.socket) -> bool:
    """Whether the caller closed its end (it was stopped while the check ran)."""
    import select

    ready, _, _ = select.select([connection], [], [], 0)
    if not ready:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True



def main(argv: list[str] | None = None) -> None:
    """``python -m gatelab.resident SOCKET [FOLDER ASSIGNMENT]``, as ``server.start_later`` starts it."""
    args = argv if argv is not None else sys.argv[1:]
    first = (args[1], args[2]) if len(args) > 2 else None
    serve(Path(args[0]), float(os.environ.get(server.IDLE, server.IDLE_SECONDS)), first)


if __name__ == "__main__":
    main()
