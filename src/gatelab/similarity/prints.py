"""Fingerprints of a submission's tokens: hashes of every k tokens in a row, a few chosen by winnowing.

Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003: the method of Moss) keeps the smallest hash of
every window of ``WINDOW`` k-grams in a row: any run of ``K + WINDOW - 1`` tokens two submissions share
gives both at least one fingerprint in common, whatever surrounds it, and a submission keeps about
2 / (WINDOW + 1) of its k-grams. A k-gram never crosses the edge of a block (``tokens``).

Every step is numpy over arrays: a token is its CRC-32 (stable across processes), a k-gram a polynomial
hash of those modulo 2**64.
"""
from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gatelab.similarity.tokens import Tokens

K = 12  # tokens per k-gram: about one line of an equation (``V = V . exp ( V [ 'W' ] @ V``)
WINDOW = 4  # k-grams per winnowing window: a shared run of 15 tokens always shows
BASE = np.uint64(1_000_003)


def _code(text: str) -> int:
    """A token as a number, the same in every process."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


_short_code = functools.lru_cache(maxsize=1 << 16)(_code)  # short tokens repeat: the long ones are not kept


@dataclass
class Grams:
    """Every k-gram of a submission: its hash and the index of its first token."""

    hashes: np.ndarray  # uint64
    starts: np.ndarray  # int64: where each k-gram starts among the tokens


def grams(tokens: Tokens) -> Grams:
    """Every k-gram within a block, in token order."""
    count = len(tokens.texts) - K + 1
    if count <= 0:
        return Grams(np.zeros(0, np.uint64), np.zeros(0, np.int64))
    codes = np.fromiter((_short_code(t) if len(t) <= 64 else _code(t) for t in tokens.texts), dtype=np.uint64,
                        count=len(tokens.texts))
    hashes = np.zeros(count, np.uint64)
    with np.errstate(over="ignore"):
        for j in range(K):
            hashes = hashes * BASE + codes[j:j + count]
    blocks = np.asarray(tokens.block, dtype=np.int64)
    within = blocks[:count] == blocks[K - 1:]
    starts = np.flatnonzero(within)
    return Grams(hashes[within], starts)


def winnow(hashes: np.ndarray) -> np.ndarray:
    """The indices of the hashes winnowing keeps: the smallest of each window of :data:`WINDOW` (the
    leftmost of equals), each index once, in order. Fewer hashes than a window: all of them."""
    if len(hashes) <= WINDOW:
        return np.arange(len(hashes))
    windows = sliding_window_view(hashes, WINDOW)
    return np.unique(windows.argmin(axis=1) + np.arange(len(windows)))


def fingerprints(hashes: np.ndarray, boilerplate: np.ndarray) -> np.ndarray:
    """A submission's own fingerprints, sorted and each once: its k-gram ``hashes`` winnowed, then those of
    ``boilerplate`` (the stubs' and the reference's k-gram hashes, sorted) left out."""
    chosen = hashes[winnow(hashes)]
    return np.unique(chosen[~np.isin(chosen, boilerplate)])
