"""A named case of ``grader/config.yaml``: the values of the dimensions and variables for one family of
tests. Data only: ``grading.cases`` draws the inputs for it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection

_SIZES = re.compile(r"\((?P<items>\s*\w+\s*=\s*[^,()=]+(?:,\s*\w+\s*=\s*[^,()=]+)*)\)\s*$")


@dataclass(frozen=True)
class Case:
    """The values of the dimensions and variables for one family of tests."""

    name: str
    values: tuple[tuple[str, float], ...] = ()
    title: str = ""

    @property
    def label(self) -> str:
        """Human title: ``batch of one (m=1)``, or the name with spaces."""
        return self.title or self.name.replace("_", " ")

    def label_for(self, dimensions: Collection[str], used: Collection[str]) -> str:
        """The title as one function's test shows it: a closing ``(a=3, b=4, c=5)`` keeps only the
        ``dimensions`` among ``used`` (the function's), so a test never names a size its inputs do not have."""
        match = _SIZES.search(self.label)
        if not match:
            return self.label
        items = [item.strip() for item in match["items"].split(",")]
        kept = [item for item in items if item.split("=")[0].strip() not in dimensions
                or item.split("=")[0].strip() in used]
        head = self.label[:match.start()].rstrip()
        return f"{head} ({', '.join(kept)})" if kept else head

    def value(self, name: str) -> float:
        return dict(self.values)[name]
