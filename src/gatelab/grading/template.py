"""The warm worker template's own loop (the worker side of ``forkserver``): loaded once, with numpy and what
a student may import, it forks a fresh worker for each request and tells the grader how each child ended.
It never imports a submission."""
from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Any

from gatelab.grading import wire, worker
from gatelab.grading.hardening import non_dumpable


def template(argv: list[str] | None = None) -> None:
    """A warm template: loaded once, it forks a fresh worker for each request on its control socket and tells
    the grader (``grading.forkserver``) each child's pid and, when it ends, its exit status.

    A request is one message holding the worker's options (as for
    :func:`main`, without descriptors) and four descriptors: the two pipes,
    the file its output goes to, and its stack file. The template never
    imports a submission, so no child inherits anything of another's.
    """
    import select
    import socket

    control = socket.socket(fileno=int((argv or sys.argv[1:])[0]))
    non_dumpable()  # a worker of the same user cannot read or change the template that forks the next ones
    worker.prepare_interpreter()
    if not worker.running_as_root():
        worker.preload()  # what every fork would import anyway (a privileged start has done it)
    gc.freeze()  # the garbage collector of a fork never walks what is loaded now: no copy of every page it holds
    woken, wake = os.pipe()  # a child's end wakes the loop at once (SIGCHLD), so it is reaped and told at once
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    while True:
        ready, _, _ = select.select([control.fileno(), woken], [], [], 1.0)
        if woken in ready:
            os.read(woken, 4096)
        _reap(control, children)
        if control.fileno() not in ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except OSError:
            return
        if not message:
            return  # the grader is gone; running children end when their pipes close
        request = wire.decode(message[4:])
        pid = _fork_worker(control, (woken, wake), request, fds) if len(fds) == 4 else -1
        children.update([pid] if pid > 0 else [])
        for fd in fds:
            os.close(fd)
        answer = {"pid": pid} if pid > 0 else {"error": "a request needs four descriptors"}
        control.send(wire.encode({**answer, "request": request.get("request")}))


def _fork_worker(control: Any, waking: tuple[int, int], request: dict[str, Any], fds: list[int]) -> int:
    """Fork a worker for one request (in the template); the child never returns from here."""
    in_fd, out_fd, output, stacks = fds
    options = worker.parse_options([str(a) for a in request["argv"]] +
                       ["--in-fd", str(in_fd), "--out-fd", str(out_fd), "--stack-fd", str(stacks)])
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        control.close()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in waking:
            os.close(fd)
        os.setsid()
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.chdir(options.cwd)
        os.environ.update(HOME=options.cwd, TMPDIR=options.cwd, TMP=options.cwd, TEMP=options.cwd)
        worker.become_worker(options)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported through the exit status, as a crash
        code = 1
    finally:
        worker.flush(sys.stdout, sys.stderr)
        worker.REAL_EXIT(code)


def _reap(control: Any, children: set[int]) -> None:
    """Collect ended children and tell the grader how each ended (a negative status: the signal)."""
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            children.discard(pid)
            continue
        if done:
            children.discard(pid)
            try:
                control.send(wire.encode({"exit": pid, "status": os.waitstatus_to_exitcode(status)}))
            except OSError:
                pass
