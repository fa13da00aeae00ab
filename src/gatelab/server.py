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

This module is the client: the ``grade`` command (``gatelab.__main__``) asks
here first, and starts the server (``gatelab.resident``) after a check. Only
the standard library is imported: it is on the path of every ``grade`` command.
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
from typing import Any

SWITCH = "GATELAB_SERVER"
IDLE = "GATELAB_SERVER_IDLE"
IDLE_SECONDS = 900.0
FRAME = struct.Struct(">I")
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
        socket.send_fds(connection, [FRAME.pack(len(request))], [sys.stdout.fileno(), sys.stderr.fileno()])
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
    if path is None or answers(path):
        return
    import subprocess

    assignment = argv[argv.index("--assignment") + 1] if "--assignment" in argv[:-1] else ""
    subprocess.Popen([sys.executable, "-m", "gatelab.resident", str(path), os.getcwd(), assignment],
                     stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                     cwd=str(path.parent), close_fds=True)


def _in_a_terminal() -> bool:
    try:
        return os.isatty(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False


def answers(path: Path) -> bool:
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
        socket.send_fds(connection, [FRAME.pack(len(body))], [])
        connection.sendall(body)
        reply = _read_line(connection)
        return json.loads(reply) if reply else None
    except (OSError, ValueError):
        return None
    finally:
        connection.close()
