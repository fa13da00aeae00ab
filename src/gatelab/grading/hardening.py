"""Process protections that both sides use: the grader, the worker template and the worker import this
(and nothing else of the grader does the worker import beyond ``wire``)."""
from __future__ import annotations

import sys


def non_dumpable() -> None:
    """No /proc/<pid>/environ or mem, and no ptrace, of this process for other processes of its user (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
