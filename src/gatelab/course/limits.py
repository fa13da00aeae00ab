"""What one submission may use: a plain dataclass that the configuration fills and the sandbox obeys.

It lives apart from both, so reading an assignment's configuration never
imports the layer that spawns processes, and the sandbox never imports the
configuration model.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one call may use. ``timeout``: seconds of active time (``clock``: CPU and waiting, not time spent
    waiting for a core) per call; ``strikes``: timeouts after which a function is no longer called;
    ``budget``: seconds of active time for all the calls into one submission."""

    timeout: float = 5.0
    memory_mb: int = 1024
    output_chars: int = 2000
    output_mb: int = 8
    strikes: int = 2
    budget: float = 60.0  # seconds of active time for a whole submission


# How strictly the kernel's wall around student code must hold (``isolation`` in config.yaml): ``strict``
# refuses to grade for an LMS where it cannot be built; ``weak`` grades behind what the machine has.
STRICT, WEAK = "strict", "weak"
POLICIES = (STRICT, WEAK)
