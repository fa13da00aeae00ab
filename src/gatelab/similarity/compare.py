"""A class compared: fingerprints indexed, candidate pairs found through rare ones, each scored in full.

**Code.** A fingerprint held by ``df`` of the class's ``N`` submissions weighs ``log(N / df)`` (the inverse
document frequency of text retrieval): one only two hold weighs much, one everybody holds nothing. A pair's
overlap is the weight of the fingerprints it shares over the smaller one's own weight, and its **code**
score is how far that overlap exceeds what chance gives: ``(overlap - expected) / (1 - expected)``, where a
submission's expected overlap with an independent one is the weighted share of others holding each of its
fingerprints. Independent work scores about 0 however alike the class writes; a copy near 1.

Not every pair is scored: an inverted index of the fingerprints held by 2 to ``rare`` submissions (5% of
the class, at least 4) gives, per submission, the :data:`PARTNERS` others it shares most rare ones with
(pairs that share none are never looked at); those pairs, and those sharing a mistake, are scored in full.

**Mistakes.** Each function two got wrong the same way that at most ``common`` others did (2% of the class,
at least 4; more is a popular mistake, and says nothing of a pair) adds ``OUTCOME * rarity``, rarity 1 for
a mistake the two alone made, falling to 0 past ``common``; combined as ``1 - prod(1 - each)``.

The pair's **score** combines both as independent evidence, ``1 - (1 - code) * (1 - mistakes)``, in 0..1.
A submission whose code beyond the stubs is mostly the reference's is *close to the reference*, reported
alone rather than paired with every student who wrote the canonical lines.
"""
from __future__ import annotations

import math
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from gatelab.similarity import evidence, prints, tokens
from gatelab.similarity.evidence import Region
from gatelab.similarity.outcomes import Outcome

COMMON_SHARE, COMMON_MIN = 0.02, 4  # a mistake made by more than max(4, 2% of the class) is common
RARE_SHARE = 0.05  # fingerprints held by at most max(4, 5% of the class) find the pairs worth scoring
CELLS = 1 << 20  # counts held at once while finding candidates (4 MB)
PARTNERS = 20  # the others each submission is scored against: those it shares most rare fingerprints with
OUTCOME = 0.4  # what one function wrong the same way, by two students alone, adds to a pair's score
WRITTEN = 0.5  # close to the reference: only when at least this share of the reference's own k-grams is there

Reader = Callable[[str], Mapping[str, str]]


@dataclass(frozen=True)
class Options:
    """How a class is compared: the score from which a pair is flagged, the share of a submission's code
    that makes it close to the reference, and how many pairs the page shows with their regions."""

    threshold: float = 0.5
    reference_threshold: float = 0.9
    shown: int = 25


@dataclass(frozen=True)
class Boilerplate:
    """What every student starts from or may rightly write: the stubs' and the reference's k-gram hashes."""

    stubs: np.ndarray
    reference: np.ndarray
    both: np.ndarray
    written: int  # the reference's k-grams beyond the stubs: what writing every function adds

    @classmethod
    def of(cls, stubs: Mapping[str, str], reference: Mapping[str, str]) -> Boilerplate:
        stub = np.unique(prints.grams(tokens.of_files(dict(stubs))).hashes)
        ref_all = prints.grams(tokens.of_files(dict(reference))).hashes
        return cls(stub, np.unique(ref_all), np.union1d(stub, ref_all), int((~np.isin(ref_all, stub)).sum()))


@dataclass
class Printed:
    """One submission's fingerprints and sizes (pass one)."""

    student: str
    prints: np.ndarray  # its own fingerprints (outside the boilerplate), sorted, once each
    beyond_stubs: int  # its k-grams outside the stubs
    as_reference: int  # of those, the ones the reference has too
    error: str = ""


@dataclass(frozen=True)
class Shared:
    """A mistake two submissions share, and how many in the class made it."""

    outcome: Outcome
    held_by: int


@dataclass
class Pair:
    """Two submissions more alike than expected, and the evidence: a person reads it, nothing is decided."""

    first: str
    second: str
    score: float
    code: float
    mistakes: float
    shared_prints: int
    first_share: float  # of the first's own fingerprints, the share the second holds too
    second_share: float
    shared: list[Shared] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)  # filled for the pairs shown (``evidence``)


@dataclass
class Close:
    """A submission whose code, beyond the stubs, is mostly the reference's."""

    student: str
    share: float
    written: float  # how much of the reference's own code it holds


@dataclass
class Comparison:
    """A class compared: the flagged pairs (highest score first), who is close to the reference, and the
    submissions that could not be read."""

    students: int
    options: Options
    common: int
    pairs: list[Pair] = field(default_factory=list)
    close: list[Close] = field(default_factory=list)
    unread: dict[str, str] = field(default_factory=dict)


def common_for(students: int) -> int:
    """The most submissions a mistake may be made by and still tell something about a pair."""
    return max(COMMON_MIN, math.ceil(COMMON_SHARE * students))


def rarity(held_by: int, common: int) -> float:
    """1 for a mistake two submissions alone made, falling to 0 past ``common``."""
    return min(1.0, max(0.0, 1.0 - (held_by - 2.0) / (common - 1.0)))


def printed(student: str, source: str, read: Reader, boilerplate: Boilerplate) -> Printed:
    """Pass one for a submission: read, tokenised, fingerprinted (in a process of the pool)."""
    try:
        toks = tokens.of_files(dict(read(source)))
    except Exception as exc:  # noqa: BLE001 - one unreadable submission never stops the comparison
        return Printed(student, np.zeros(0, np.uint64), 0, 0, f"{type(exc).__name__}: {exc}")
    every = prints.grams(toks).hashes
    beyond = every[~np.isin(every, boilerplate.stubs)]
    return Printed(student, prints.fingerprints(every, boilerplate.both), len(beyond),
                   int(np.isin(beyond, boilerplate.reference).sum()))


def _pass_one(sources: Mapping[str, str], read: Reader, boilerplate: Boilerplate, jobs: int) -> list[Printed]:
    names = list(sources)
    if jobs <= 1 or len(names) < 50:
        return [printed(n, sources[n], read, boilerplate) for n in names]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(printed, names, [sources[n] for n in names], [read] * len(names),
                             [boilerplate] * len(names), chunksize=max(1, len(names) // (8 * jobs))))


def compare(sources: Mapping[str, str], read: Reader, boilerplate: Boilerplate,
            outcomes: Mapping[str, Iterable[Outcome]] | None = None, options: Options = Options(),
            jobs: int = 1) -> Comparison:
    """Compare every submission (student -> what ``read`` reads their module sources from) with every other;
    ``outcomes``: per student, the mistakes grading found (none: code only). The first ``options.shown``
    pairs carry their matching regions (read again: only those pairs' sources are held at once)."""
    done = _pass_one(sources, read, boilerplate, jobs)
    ok = [p for p in done if not p.error]
    result = Comparison(len(done), options, common_for(len(done)), unread={p.student: p.error for p in done if p.error})
    index = Index.of(ok)
    found = {s: set(v) for s, v in (outcomes or {}).items()}
    scored = _score(ok, index, _shared_outcomes([p.student for p in ok], found, result.common), result.common,
                    options.threshold)
    result.pairs = sorted(scored, key=lambda p: (-p.score, p.first, p.second))
    result.close = _close_to_reference(ok, boilerplate, options)
    for pair in result.pairs[:options.shown]:
        try:
            pair.regions = evidence.regions(read(sources[pair.first]), read(sources[pair.second]),
                                            boilerplate.both, index.held)
        except Exception:  # noqa: BLE001 - read once already, gone since (a folder moved): scored, not shown
            pair.regions = []
    return result


@dataclass
class Index:
    """The class's fingerprints: every one (sorted) and how many submissions hold it, each submission's
    weight and expected overlap, and the candidate pairs (see the module's docstring)."""

    hashes: np.ndarray
    held_by: np.ndarray
    students: int
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per submission: its fingerprints' weight
    expected: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per submission: chance's overlap
    candidates: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def of(cls, done: Sequence[Printed]) -> Index:
        hashes = np.concatenate([p.prints for p in done]) if done else np.zeros(0, np.uint64)
        if not len(hashes):  # nothing of their own anywhere: the stubs, the reference, empty files
            return cls(hashes, np.zeros(0, np.int64), len(done), np.zeros(len(done)), np.zeros(len(done)))
        owners = np.concatenate([np.full(len(p.prints), n, np.int32) for n, p in enumerate(done)])
        order = np.lexsort((owners, hashes))
        hashes, owners = hashes[order], owners[order]
        del order
        starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])  # sorted: each hash's first place
        counts = np.diff(np.r_[starts, len(hashes)])
        index = cls(hashes[starts], counts, len(done))
        held = np.repeat(counts, counts)  # how many hold each of the sorted hashes
        weights = _weight(len(done), held)
        chance = (held - 1) / max(1, len(done) - 1)
        index.weight = np.bincount(owners, weights=weights, minlength=len(done))
        index.expected = np.bincount(owners, weights=weights * chance, minlength=len(done)) / \
            np.maximum(index.weight, 1e-12)
        rare = max(COMMON_MIN, math.ceil(RARE_SHARE * len(done)))
        index.candidates = _candidates(owners, starts, counts, rare, len(done))
        return index

    def held(self, hashes: np.ndarray) -> np.ndarray:
        """How many submissions hold each of ``hashes`` (0 for one no submission's fingerprints have)."""
        found, where = _found(self.hashes, hashes)
        return np.where(found, self.held_by[where] if len(self.held_by) else 0, 0)

    def weights(self, hashes: np.ndarray) -> np.ndarray:
        """``log(N / df)`` of each of ``hashes``: what sharing it tells."""
        return _weight(self.students, np.maximum(self.held(hashes), 1))


def _candidates(owners: np.ndarray, starts: np.ndarray, counts: np.ndarray, rare: int,
                students: int) -> set[tuple[int, int]]:
    """The pairs worth scoring: for each submission, the :data:`PARTNERS` others it shares the most
    fingerprints held by 2..``rare`` submissions with. Counted in blocks of submissions (a block's rows of
    the class's count matrix, :data:`CELLS` at most), so memory does not grow with the class's pairs."""
    held = [(owners[starts[counts == size, None] + np.arange(size)]) for size in range(2, rare + 1)]
    block = max(1, CELLS // max(1, students))
    chosen: set[tuple[int, int]] = set()
    for low in range(0, students, block):
        shared = np.zeros((min(block, students - low), students), np.int32)
        for members in held:  # (groups, size): the submissions that hold each fingerprint of this size
            for i in range(members.shape[1]):
                mine = members[(members[:, i] >= low) & (members[:, i] < low + block)]
                for j in range(members.shape[1]):
                    if j != i and len(mine):
                        np.add.at(shared, (mine[:, i] - low, mine[:, j]), 1)
        for row, counted in enumerate(shared):
            me = low + row
            others = np.argsort(-counted, kind="stable")[:PARTNERS]
            chosen.update((min(me, o), max(me, o)) for o in others.tolist() if counted[o] > 0)
    return chosen


def _shared_outcomes(students: Sequence[str], outcomes: Mapping[str, set[Outcome]],
                     common: int) -> dict[tuple[int, int], list[Shared]]:
    """(first, second) -> the mistakes both made that 2..common made."""
    number = {s: n for n, s in enumerate(students)}
    holders: dict[Outcome, list[int]] = defaultdict(list)
    for student, found in outcomes.items():
        if student in number:
            for outcome in found:
                holders[outcome].append(number[student])
    shared: dict[tuple[int, int], list[Shared]] = defaultdict(list)
    for outcome, who in holders.items():
        if 2 <= len(who) <= common:
            for a, b in combinations(sorted(who), 2):
                shared[(a, b)].append(Shared(outcome, len(who)))
    return shared


def _score(done: Sequence[Printed], index: Index, shared: Mapping[tuple[int, int], list[Shared]],
           common: int, threshold: float) -> list[Pair]:
    """Every candidate pair and every pair sharing a mistake, scored (see the module's docstring); those
    that score ``threshold`` or more (and more than 0) kept."""
    weights = [index.weights(p.prints) for p in done]
    pairs = []
    for key in index.candidates | set(shared):
        a, b = done[key[0]], done[key[1]]
        both = _found(b.prints, a.prints)[0]
        count = int(np.count_nonzero(both))
        smaller = key[0] if index.weight[key[0]] <= index.weight[key[1]] else key[1]
        overlap = float(weights[key[0]][both].sum()) / index.weight[smaller] if index.weight[smaller] > 0 else 0.0
        chance = float(index.expected[smaller])
        code = max(0.0, (overlap - chance) / (1.0 - chance)) if chance < 1.0 else 0.0
        mistakes = sorted(shared.get(key, []), key=lambda s: (s.held_by, s.outcome))
        strongest: dict[str, float] = {}
        for each in mistakes:
            strength = OUTCOME * rarity(each.held_by, common)
            strongest[each.outcome.function] = max(strongest.get(each.outcome.function, 0.0), strength)
        against = math.prod(1.0 - s for s in strongest.values())
        score = 1.0 - (1.0 - code) * against
        if score < threshold or score <= 0:
            continue
        pairs.append(Pair(a.student, b.student, score, code, 1.0 - against, count,
                          count / len(a.prints) if len(a.prints) else 0.0,
                          count / len(b.prints) if len(b.prints) else 0.0, mistakes))
    return pairs


def _weight(students: int, held: np.ndarray) -> np.ndarray:
    weights: np.ndarray = np.log(students / held)
    return weights


def _found(ordered: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which of ``hashes`` the sorted ``ordered`` holds, where in it): one lookup for the index and a pair."""
    if not len(ordered):
        return np.zeros(len(hashes), bool), np.zeros(len(hashes), np.int64)
    where = np.searchsorted(ordered, hashes).clip(max=len(ordered) - 1)
    return ordered[where] == hashes, where


def _close_to_reference(done: Sequence[Printed], boilerplate: Boilerplate, options: Options) -> list[Close]:
    """The submissions that wrote enough of the reference's own code, most of theirs being the reference's."""
    close = []
    for p in done:
        written = p.as_reference / boilerplate.written if boilerplate.written else 0.0
        share = p.as_reference / p.beyond_stubs if p.beyond_stubs else 0.0
        if written >= WRITTEN and share >= options.reference_threshold:
            close.append(Close(p.student, share, min(1.0, written)))
    return sorted(close, key=lambda c: (-c.share, c.student))
