"""Every string a finite regular expression matches, so a locked bank can check answers a pattern accepts.

A short-text question may accept answers by pattern (``(gradient )?(norm )?clipping``). The locked bank
keeps no pattern (it would give the answer away), only check values of answers; a pattern whose language is
finite and small is written out here, each string checked like a plain accepted answer, so ``norm clipping``
counts at home as at grading. A pattern with an unbounded repeat, a class as wide as ``\\w`` or ``.``, a
lookaround or a backreference has no such list: :func:`expand` returns None, and the check says that an
answer it does not know may still be right when graded.

Python's own regular-expression parser reads the pattern (``re._parser``; ``sre_parse`` before 3.11), so
the strings are exactly those ``re.fullmatch`` accepts.
"""
from __future__ import annotations

import re
import string
import sys
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as _c
    from re import _parser as _p
else:  # pragma: no cover - Python 3.10
    import sre_constants as _c
    import sre_parse as _p

LIMIT = 512  # strings a pattern may stand for and still be written out
_CATEGORIES = {_c.CATEGORY_DIGIT: string.digits, _c.CATEGORY_SPACE: " "}  # answers are normalised: one space


class _Unbounded(Exception):
    """The pattern matches too many strings (or ones this module cannot list) to write them out."""


def expand(pattern: str) -> list[str] | None:
    """Every string ``pattern`` fully matches, in a stable order; None when there are more than ``LIMIT``,
    infinitely many, or the pattern uses what cannot be listed (or does not compile)."""
    try:
        compiled = re.compile(pattern)
        found = _sequence(list(_p.parse(pattern).data))
    except (_Unbounded, re.error, RecursionError):
        return None
    return sorted({s for s in found if compiled.fullmatch(s)}, key=lambda s: (len(s), s))


def _sequence(items: list[tuple[Any, Any]]) -> list[str]:
    strings = [""]
    for op, value in items:
        strings = _product(strings, _item(op, value))
    return strings


def _product(heads: list[str], tails: list[str]) -> list[str]:
    if len(heads) * len(tails) > LIMIT:
        raise _Unbounded
    return [h + t for h in heads for t in tails]


def _item(op: Any, value: Any) -> list[str]:
    if op is _c.LITERAL:
        return [chr(value)]
    if op is _c.SUBPATTERN:
        return _sequence(list(value[-1]))
    if op is _c.BRANCH:
        options = [s for branch in value[1] for s in _sequence(list(branch))]
        if len(options) > LIMIT:
            raise _Unbounded
        return options
    if op is _c.IN:
        return _class(value)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, high, body = value
        if high is _c.MAXREPEAT or high > 8:
            raise _Unbounded
        once = _sequence(list(body))
        options, current = ([""] if low == 0 else []), [""]
        for count in range(1, high + 1):
            current = _product(current, once)
            if count >= low:
                options += current
        return options
    if op is _c.AT and value in (_c.AT_BEGINNING, _c.AT_END, _c.AT_BEGINNING_STRING, _c.AT_END_STRING):
        return [""]
    raise _Unbounded  # ANY, NOT_LITERAL, lookarounds, backreferences, ...


def _class(items: list[tuple[Any, Any]]) -> list[str]:
    chars: list[str] = []
    for op, value in items:
        if op is _c.LITERAL:
            chars.append(chr(value))
        elif op is _c.RANGE and value[1] - value[0] < 64:
            chars += [chr(n) for n in range(value[0], value[1] + 1)]
        elif op is _c.CATEGORY and value in _CATEGORIES:
            chars += list(_CATEGORIES[value])
        else:
            raise _Unbounded  # a negated or wide class
    return list(dict.fromkeys(chars))
