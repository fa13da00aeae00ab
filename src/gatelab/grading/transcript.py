"""What a worker leaves the grader to read: the file its prints go to (read from where the grader stopped,
cut to the configured length) and the file its stacks go to (where a call stood when its time ran out, or
where the worker ended abruptly). Plain text, never run; the submission's lines are read from the staged
copy."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from gatelab.course.limits import Limits
from gatelab.grading import wire, worker


class Transcript:
    """The grader's side of one worker's output and stack files. ``shared``: the output file's offset is the
    worker's too (the posix path), so it is read with ``pread``; else through the grader's own handle."""

    def __init__(self, output: Any, stacks: Any, submission: Path, limits: Limits, shared: bool) -> None:
        self.output = output
        self.stacks = stacks
        self.submission = submission
        self.limits = limits
        self.shared = shared
        self._offset = 0

    def take_output(self, until: Any = None) -> str:
        """What the worker printed since the last call (up to ``until``, where a reply says its call's output
        ends, when that is a position ahead), cut to the configured length."""
        end = os.fstat(self.output.fileno()).st_size
        if isinstance(until, int) and not isinstance(until, bool) and self._offset <= until <= end:
            end = until
        limit = self.limits.output_chars
        data = self._read_output(min(end - self._offset, limit * 4))
        cut = end - self._offset > len(data)
        self._offset = end
        text = data.decode("utf-8", errors="replace")
        if len(text) > limit or cut:
            text = text[:limit] + f"\n... (output cut at {limit} characters)"
        return text

    def _read_output(self, size: int) -> bytes:
        """``size`` bytes of the output file from where the grader stopped reading: with ``pread`` where the
        file's offset is shared with the worker (the posix path), from the grader's own handle otherwise."""
        if self.shared:
            return os.pread(self.output.fileno(), size, self._offset)
        self.output.seek(self._offset)
        data: bytes = self.output.read(size)
        return data

    def where_stopped(self) -> list[dict[str, Any]]:
        """The submission's frames (outermost first) in the last stack the worker wrote before time ran out."""
        return stack_frames(self._stacks().rsplit("Timeout (", 1)[-1], self.submission)  # a watchdog thread's
        # last dump, or the signal handler's (which writes no "Timeout (" line)

    def where_ended(self) -> list[dict[str, Any]]:
        """The submission's frames (outermost first) where the worker ended abruptly, when it wrote them down
        (``worker.record_endings``): none for an ending it could not record."""
        text = self._stacks()
        return stack_frames(text.rsplit(worker.FATAL, 1)[-1], self.submission) if worker.FATAL in text else []

    def _stacks(self) -> str:
        """The last 64 KiB the worker wrote to its stack file."""
        size = os.fstat(self.stacks.fileno()).st_size
        self.stacks.seek(max(0, size - (1 << 16)))
        data: bytes = self.stacks.read(1 << 16)
        return data.decode("utf-8", errors="replace")

    def output_is_full(self) -> bool:
        return self._offset * 2 > self.limits.output_mb * 1024 * 1024

    def close(self) -> None:
        self.output.close()
        self.stacks.close()


_STACK_LINE = re.compile(r'^\s*File "(?P<path>.+)", line (?P<line>\d+) in (?P<function>\S+)\s*$')


def stack_frames(dump: str, submission: Path) -> list[dict[str, Any]]:
    """The frames of the first thread in a ``faulthandler`` dump that ran the submission's code, outermost
    first, each with the line of code (read here, from the staged copy: plain text, never run)."""
    for block in dump.split("\nThread ")[1:] or [dump]:
        frames = []
        for line in block.splitlines():
            match = _STACK_LINE.match(line)
            if not match:
                continue
            path = Path(match["path"])
            if path.parent.resolve() != submission.resolve() or not path.name.endswith(".py"):
                continue
            number = int(match["line"])
            frames.append({"file": path.name, "line": number, "function": match["function"][:80],
                           "code": wire.safe_str(_source_line(path, number), 200)})
        if frames:
            return frames[::-1][-8:]
    return []


def _source_line(path: Path, number: int) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as source:
            for count, text in enumerate(source, 1):
                if count == number:
                    return text.strip()
    except OSError:
        pass
    return ""
