"""Reading the text files people write by hand: answers, configuration, question banks, solutions.

They come from every editor on every OS: UTF-8 with or without a byte-order
mark, UTF-16 as Windows Notepad saves "Unicode", CRLF or LF line endings.
All of that is read as it is meant. A file in a legacy code page (Windows-1252,
Latin-1) is refused with the line it goes wrong on and what to do, never
guessed at: a wrong guess would change an answer without anyone noticing.
"""
from __future__ import annotations

import codecs
from pathlib import Path


class NotText(ValueError):
    """A file that is not UTF-8 (or UTF-16 with its byte-order mark); ``line`` is where it stops being so (the
    message leaves the file and line to the caller, which cites them as ``file:line``)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def read_text(path: Path) -> str:
    """The text of ``path``, line endings as written (YAML and Python read any); raises :class:`NotText`
    for another encoding and ``OSError`` for a file that cannot be read."""
    return decode(Path(path).read_bytes())


def decode(data: bytes) -> str:
    """``data`` as text: UTF-16 when it starts with that byte-order mark, else UTF-8 (a mark dropped)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NotText("broken UTF-16 text (it starts as UTF-16 and does not go on so): save it as UTF-8",
                          data[:exc.start].decode("utf-16", errors="replace").count("\n") + 1) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        seen = data[exc.start:exc.start + 1].decode("cp1252", errors="replace")
        raise NotText(f"not UTF-8 text (byte 0x{data[exc.start]:02x}, {seen!r} in the Windows code page): "
                      "save the file as UTF-8 (in most editors: Save As, Encoding: UTF-8)", line) from None
