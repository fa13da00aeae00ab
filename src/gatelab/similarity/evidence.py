"""Where two submissions match: runs of shared k-grams, as lines of each side by side.

Every k-gram both hold (the boilerplate's left out) is a match at a token of each; matches one token apart
in both are one run. Runs are taken rarest and longest first, each once: a run mostly inside those already
taken is dropped. Only the pairs a page shows are lined up, so only their sources are read again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from gatelab.similarity import prints, tokens

MAX_REGIONS = 12  # runs shown per pair
MAX_LINES = 30  # lines shown per run and side
MAX_WIDTH = 160  # characters shown per line
UNKNOWN = 1 << 30  # a k-gram winnowing chose in neither submission: how many hold it is not known
MAX_PLACES = 8  # places of one k-gram in a submission considered (a line repeated a hundred times stays cheap)


@dataclass
class Region:
    """A run of code two submissions share: in which module of each, and the lines of each it covers
    (number, text; lines between them that hold none of it, such as a docstring, left out)."""

    first: str
    second: str
    first_lines: list[tuple[int, str]]
    second_lines: list[tuple[int, str]]
    held_by: int  # how many submissions of the class hold it (its rarest fingerprint); 0: too short to tell


def regions(first: Mapping[str, str], second: Mapping[str, str], boilerplate: np.ndarray,
            held: Callable[[np.ndarray], np.ndarray]) -> list[Region]:
    """The runs of code ``first`` and ``second`` (module -> source) share, as regions to show; ``held``: how
    many submissions of the class hold each fingerprint (0 or 1: not known)."""
    a, b = tokens.of_files(dict(first)), tokens.of_files(dict(second))
    ga, gb = prints.grams(a), prints.grams(b)
    places: dict[int, list[int]] = {}
    for h, start in zip(gb.hashes.tolist(), gb.starts.tolist()):
        seen = places.setdefault(h, [])
        if len(seen) < MAX_PLACES:
            seen.append(start)
    keep = np.isin(ga.hashes, gb.hashes) & ~np.isin(ga.hashes, boilerplate)
    counts = held(ga.hashes[keep])
    held_by = {h: n if n > 1 else UNKNOWN for h, n in zip(ga.hashes[keep].tolist(), counts.tolist())}
    matches = sorted((i - j, i, j, h) for h, i in zip(ga.hashes[keep].tolist(), ga.starts[keep].tolist())
                     for j in places[h])
    runs: list[list[int]] = []  # [first start, last start, second start, rarest]
    for diagonal, i, j, h in matches:
        run = runs[-1] if runs else None
        if run and run[0] - run[2] == diagonal and i == run[1] + 1:
            run[1], run[3] = i, min(run[3], held_by[h])
        else:
            runs.append([i, i, j, held_by[h]])
    runs.sort(key=lambda r: (r[3], -(r[1] - r[0]), r[0]))  # rarest first, then longest
    shown: list[Region] = []
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    for i0, i1, j0, rarest in runs:
        span_a = set(range(i0, i1 + prints.K))
        span_b = set(range(j0, j0 + i1 - i0 + prints.K))
        if 2 * len(span_a & taken_a) > len(span_a) or 2 * len(span_b & taken_b) > len(span_b):
            continue  # mostly shown already
        taken_a |= span_a
        taken_b |= span_b
        module_a, lines_a = _lines(a, first, i0, i1 + prints.K - 1)
        module_b, lines_b = _lines(b, second, j0, j0 + i1 - i0 + prints.K - 1)
        shown.append(Region(module_a, module_b, lines_a, lines_b, 0 if rarest == UNKNOWN else rarest))
        if len(shown) == MAX_REGIONS:
            break
    return sorted(shown, key=lambda r: (r.first, r.first_lines[0][0] if r.first_lines else 0))  # as in the file


def _lines(toks: tokens.Tokens, files: Mapping[str, str], first: int, last: int) -> tuple[str, list[tuple[int, str]]]:
    """The module of the tokens ``first``..``last`` (a k-gram stays in one) and the lines they are on, each
    (number, text), at most :data:`MAX_LINES`, each cut to :data:`MAX_WIDTH` characters."""
    module = toks.modules[toks.module[first]]
    text = files.get(module, "").splitlines()
    numbers = sorted(set(toks.line[first:last + 1]))[:MAX_LINES]
    return f"{module}.py", [(n, _cut(text[n - 1]) if n <= len(text) else "") for n in numbers]


def _cut(line: str) -> str:
    return line if len(line) <= MAX_WIDTH else line[:MAX_WIDTH] + "…"
