"""The check server: a resident grader that answers ``grade check`` from a warm process.

A cold ``grade check`` spends most of its time importing (numpy, click,
jinja2, PyYAML, pytest: about twice ``python -c "import numpy"`` before any
grading) and collecting the grader's tests. Students run it dozens of times
an hour, so after a check in a terminal, ``grade`` leaves a server behind: one
process per user and gatelab installation, with everything imported, the
tests collected, the right answers remembered and a warm worker template.
The next ``grade check`` (not ``--watch``) connects, hands over its standard
output and error (the descriptors themselves, so colours, encoding and
redirection are exactly the caller's), its folder and environment, and gets
the exit code back. It grades as a local check does, with a fresh worker
for the student's code every time.

- Where: a socket in a private folder (``$XDG_RUNTIME_DIR/gatelab`` or
  ``~/.cache/gatelab/run``, mode 0700, owned by the user); on Linux the
  server also checks the caller's user. Its name is a fingerprint of the
  Python and of gatelab's own files, so an upgraded gatelab gets a new server.
- When: started after a check whose output is a terminal, or always with
  ``GATELAB_SERVER=1``; never with ``GATELAB_SERVER=0``; not on Windows.
  It stops after ``GATELAB_SERVER_IDLE`` seconds without a check (15
  minutes), or with ``grade server stop``.

Only the standard library is imported at module level: the client side of
this module is on the path of every ``grade`` command.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import struct
import sys
from pathlib import Path
from typing import Any, Callable

SWITCH = "GATELAB_SERVER"
IDLE = "GATELAB_SERVER_IDLE"
IDLE_SECONDS = 900.0
_LEN = struct.Struct(">I")
_MAX_PATH = 100  # a Unix socket's path must be short (about 104-108 bytes, by OS)
ACCEPTED = b"accepted\n"


def supported() -> bool:
    """Whether this OS can run the server: Unix sockets that carry descriptors."""
    return sys.platform != "win32" and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")


def switch() -> str:
    """``on``, ``off`` or ``auto`` (the default: start one after a check in a terminal)."""
    value = os.environ.get(SWITCH, "").strip().lower()
    return "off" if value in ("0", "off", "no", "false") else "on" if value in ("1", "on", "yes", "true") else "auto"


def eligible(argv: list[str]) -> bool:
    """Whether the server may answer this command line: ``check`` without ``--watch``."""
    return bool(argv) and argv[0] == "check" and "--watch" not in argv and switch() != "off" and supported()


def fingerprint(package: Path | None = None) -> str:
    """This Python and gatelab's files (names, sizes, modification times): a changed install, a new server."""
    package = package or Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{sys.executable}\0{sys.version}\0{package}\0".encode())
    for folder, folders, files in os.walk(package):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".j2", ".yaml")):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}\0{stat.st_mtime_ns}\0{stat.st_size}\0".encode())
    return digest.hexdigest()[:20]


@functools.lru_cache(maxsize=1)
def _installed() -> str:
    """This installation's fingerprint, read once per process (a client asks for the address twice)."""
    return fingerprint()


def runtime_folder() -> Path | None:
    """The private folder for the socket, made if needed; None when it is not ours alone."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "gatelab" if base else Path.home() / ".cache" / "gatelab" / "run"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stat = folder.stat()
    except OSError:
        return None
    if stat.st_uid != os.getuid() or stat.st_mode & 0o077:
        return None  # another user could reach it: no server
    return folder


def address() -> Path | None:
    """The socket of this user's server for this installation, or None where there can be none."""
    folder = runtime_folder()
    if folder is None:
        return None
    path = folder / f"check-{_installed()}.sock"
    return path if len(str(path)) <= _MAX_PATH else None


# --- the client ---------------------------------------------------------------------------------


def ask(argv: list[str]) -> int | None:
    """Run ``grade <argv>`` on the server; its exit code, or None when no server took it (run it here)."""
    path = address()
    if path is None or not path.exists():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                              "streams": [_stream_settings(sys.stdout), _stream_settings(sys.stderr)]}).encode()
        socket.send_fds(connection, [_LEN.pack(len(request))], [sys.stdout.fileno(), sys.stderr.fileno()])
        connection.sendall(request)
        if _read_line(connection) != ACCEPTED:
            return None
    except (OSError, ValueError):
        connection.close()
        return None
    try:
        reply = _read_line(connection)
    finally:
        connection.close()
    if not reply:
        sys.stderr.write("grade: the check server stopped during the check; run it again "
                         f"({SWITCH}=0 checks without the server)\n")
        return 4
    answer = json.loads(reply)
    return None if answer.get("local") else int(answer["code"])


def _stream_settings(stream: Any) -> list[Any]:
    return [getattr(stream, "encoding", None) or "utf-8", getattr(stream, "errors", None) or "strict",
            bool(getattr(stream, "line_buffering", False))]


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def start_later(argv: list[str]) -> None:
    """After a check run here: leave a server for the next one, when wanted and none is there."""
    mode = switch()
    if not eligible(argv) or mode == "off" or (mode == "auto" and not _in_a_terminal()):
        return
    path = address()
    if path is None or _answers(path):
        return
    import subprocess

    assignment = argv[argv.index("--assignment") + 1] if "--assignment" in argv[:-1] else ""
    subprocess.Popen([sys.executable, "-m", "gatelab.server", str(path), os.getcwd(), assignment],
                     stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                     cwd=str(path.parent), close_fds=True)


def _in_a_terminal() -> bool:
    try:
        return os.isatty(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False


def _answers(path: Path) -> bool:
    """Whether a server listens on ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def stop(path: Path | None = None) -> bool:
    """Ask the server to stop; whether one was running."""
    return _tell(path, {"stop": True}) is not None


def status(path: Path | None = None) -> dict[str, Any] | None:
    """What the server says of itself (checks answered, assignment kept warm), or None when none runs."""
    return _tell(path, {"status": True})


def _tell(path: Path | None, request: dict[str, Any]) -> dict[str, Any] | None:
    path = path or address()
    if path is None or not path.exists():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
        body = json.dumps(request).encode()
        socket.send_fds(connection, [_LEN.pack(len(body))], [])
        connection.sendall(body)
        reply = _read_line(connection)
        return json.loads(reply) if reply else None
    except (OSError, ValueError):
        return None
    finally:
        connection.close()


# --- the server ---------------------------------------------------------------------------------


def serve(path: Path, idle: float = IDLE_SECONDS, first: tuple[str, str] | None = None) -> None:
    """Answer checks on ``path`` one after another until ``idle`` seconds pass without one; ``first`` (the
    folder and ``--assignment`` of the check that started it) names the assignment to make warm at once."""
    from gatelab.resident import Kept, warm_up

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if _answers(path):
        return  # another server got there first
    path.unlink(missing_ok=True)  # a dead server's socket
    os.umask(0o077)
    listener.bind(str(path))
    mine = path.stat().st_ino
    listener.listen(16)
    listener.settimeout(idle)
    warm_up()
    kept = Kept()
    if first is not None:
        kept.prepare(*first)
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                return
            with connection:
                if not _take(connection, kept):
                    return
    finally:
        if path.exists() and path.stat().st_ino == mine:  # not a newer server's socket
            path.unlink(missing_ok=True)
        listener.close()
        kept.close()


def _take(connection: socket.socket, kept: Any) -> bool:
    """Answer one connection; False when it asked the server to stop."""
    connection.setblocking(True)
    if not _same_user(connection):
        return True
    try:
        head, fds, _, _ = socket.recv_fds(connection, _LEN.size, 2)
        (length,) = _LEN.unpack(head) if len(head) == _LEN.size else (0,)
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
            connection.sendall(json.dumps(kept.status()).encode() + b"\n")
            return True
        if len(fds) != 2 or not isinstance(request.get("argv"), list):
            return True
        connection.sendall(ACCEPTED)
        try:
            reply: dict[str, Any] = {"code": kept.run(request, fds, lambda: _gone(connection))}
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
    return uid == os.getuid()


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
    args = argv if argv is not None else sys.argv[1:]
    serve(Path(args[0]), float(os.environ.get(IDLE, IDLE_SECONDS)), (args[1], args[2]) if len(args) > 2 else None)


def command() -> None:
    """The ``grade`` console script (and ``python -m gatelab``)."""

    def run_cli() -> None:
        from gatelab.cli import main as cli

        cli(prog_name="grade")

    try:
        launch(run_cli)
    except KeyboardInterrupt:  # Ctrl-C before click took over (while importing): no traceback
        sys.stderr.write("\nAborted!\n")
        sys.exit(130)


def launch(run_cli: Callable[[], None]) -> None:
    """The ``grade`` command: a check goes to the server when one answers; else it runs here (and leaves a
    server for the next check, when wanted)."""
    argv = sys.argv[1:]
    if eligible(argv):
        code = ask(argv)
        if code is not None:
            sys.exit(code)
    try:
        run_cli()
    finally:
        start_later(argv)


if __name__ == "__main__":
    main()
