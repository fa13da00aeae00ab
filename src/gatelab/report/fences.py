"""Text inside a Markdown code block that nothing in the text can close (CommonMark's fenced code blocks).

A fence closes on a line of at least as many of its characters as it opened
with, so a fence one longer than the longest run in the text holds anything a
student prints. Every Markdown gatelab writes (``summary.md.j2`` through the
``fenced`` filter, ``markdown.failure``, a batch's feedback) fences through
:func:`fenced`.
"""
from __future__ import annotations

import re


def fenced(text: str, marker: str = "`") -> str:
    """``text`` as a fenced code block of ``marker`` (a backtick or a tilde), its fence longer than the longest
    run of ``marker`` in the text and at least three long; no info string, no trailing newline."""
    if marker not in ("`", "~"):
        raise ValueError(f"a code fence is made of backticks or tildes, not {marker!r}")
    longest = max((len(run) for run in re.findall(re.escape(marker) + "+", text)), default=0)
    fence = marker * max(3, longest + 1)
    body = text if not text or text.endswith(("\n", "\r")) else text + "\n"
    return f"{fence}\n{body}{fence}"
