"""Reproducible archives: the zips a release hands out, and the gatelab wheel inside them.

The same input gives byte-identical files: entries sorted, every timestamp
set from ``SOURCE_DATE_EPOCH`` (1980-01-01 when unset), fixed permissions,
one compression level. The wheel is built from the installed gatelab itself,
so a student's grader is exactly the instructor's.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import os
import time
import zipfile
from pathlib import Path

_EARLIEST = 315532800  # 1980-01-01, the first moment a zip can record


def _epoch() -> int:
    try:
        return max(_EARLIEST, int(os.environ.get("SOURCE_DATE_EPOCH", _EARLIEST)))
    except ValueError:
        return _EARLIEST


def zip_bytes(entries: dict[str, bytes], executable: frozenset[str] = frozenset()) -> bytes:
    """A zip of ``entries`` (name -> bytes) that depends on nothing but them: sorted names, one timestamp
    (``SOURCE_DATE_EPOCH``), fixed modes (``executable`` ones 0755)."""
    stamp = time.gmtime(_epoch())[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            info.create_system = 3  # unix, so the modes hold
            bundle.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()


def write_zip(entries: dict[str, bytes], target: Path, executable: frozenset[str] = frozenset()) -> Path:
    """:func:`zip_bytes` written to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(zip_bytes(entries, executable))
    return target


CACHES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints"})


def files(folder: Path) -> list[Path]:
    """Every file under ``folder``, in a fixed order, caches left out (the one rule for what an assignment
    folder holds: what is packed, released and fingerprinted)."""
    if not folder.is_dir():
        return []
    return [path for path in sorted(folder.rglob("*")) if path.is_file() and path.suffix != ".pyc"
            and not CACHES.intersection(path.relative_to(folder).parts)]


def folder_entries(folder: Path, prefix: str = "") -> dict[str, bytes]:
    """Every file under ``folder`` as zip entries, caches left out."""
    return {prefix + path.relative_to(folder).as_posix(): path.read_bytes() for path in files(folder)}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(out_dir: Path) -> Path:
    """``gatelab-<version>-py3-none-any.whl`` from the installed package, in ``out_dir``."""
    distribution = importlib.metadata.distribution("gatelab")
    version = distribution.version
    info = f"gatelab-{version}.dist-info"
    package = Path(__file__).resolve().parent  # the gatelab package: this module lies at its top
    entries = folder_entries(package, "gatelab/")
    entries[f"{info}/METADATA"] = (distribution.read_text("METADATA") or f"Metadata-Version: 2.1\nName: gatelab\n"
                                   f"Version: {version}\n").encode()
    entries[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: gatelab\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries[f"{info}/entry_points.txt"] = (distribution.read_text("entry_points.txt")
                                           or "[console_scripts]\ngrade = gatelab.cli:main\n").encode()
    record = [_record_line(name, data) for name, data in sorted(entries.items())] + [f"{info}/RECORD,,"]
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    return write_zip(entries, out_dir / f"gatelab-{version}-py3-none-any.whl")
