"""What grading found wrong in a submission, as the keys a similarity check compares.

Per function: each catalog mistake grading named (``mistake``), its own wrong values on every case
(``values``: the digests of ``grading.likeness``, which a batch keeps in each row's digest), and each aspect
it failed once its values were right (``aspect``: it changed an input, returned the wrong dtype). Two students
with the same key made the same mistake; how much that tells depends on how few others made it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True, order=True)
class Outcome:
    """One mistake of one function: a catalog id, its own wrong values on every case, or an aspect failed."""

    function: str
    mistake: str = ""  # the catalog id; "" for the same wrong values
    values: str = ""  # the function's case=digest list, joined
    aspect: str = ""  # an aspect it failed (its values right): inputs_unchanged, shape_and_dtype

    def __str__(self) -> str:
        """The outcome in words, for the report."""
        if self.mistake:
            return f"{self.function}: {self.mistake}"
        return f"{self.function}: fails {self.aspect}" if self.aspect else f"{self.function}: the same wrong values"


def of_digest(digest: Mapping[str, Any]) -> set[Outcome]:
    """The outcomes of one submission, from its row's digest (``report.classbook.digest``)."""
    found: set[Outcome] = set()
    for function, (_score, _possible, named) in digest.get("functions", {}).items():
        found.update(Outcome(function, mistake=str(mistake)) for mistake in named)
    for function, wrong in digest.get("wrong", {}).items():
        values = sorted(v for v in wrong if not v.endswith("=failed"))
        if values:
            found.add(Outcome(function, values="|".join(values)))
        found.update(Outcome(function, aspect=v.removesuffix("=failed")) for v in wrong if v.endswith("=failed"))
    return found


