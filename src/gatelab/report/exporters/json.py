"""Results as gatelab's own JSON: every field of the model, for scripts and LMS glue."""
from __future__ import annotations

from typing import Any

from gatelab.report.results import Results
from gatelab.version import __version__


def render(results: Results) -> dict[str, Any]:
    return {"gatelab": __version__, **results.to_dict()}


def failure(message: str) -> dict[str, Any]:
    return {"gatelab": __version__, "error": message, "score": 0.0, "tests": []}
