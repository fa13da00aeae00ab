"""Python source as the tokens a copy keeps: names, comments, layout and function order normalised away.

A renamed variable, a rewritten comment, reflowed lines or functions moved around leave these tokens as
they were. Every name a submission chooses (variables, parameters, helpers, import aliases) is ``V``; what it
cannot choose stays: keywords, builtins, attributes (``np.exp`` is ``V . exp``), keyword arguments
(``axis=``), strings and numbers by value (``"W"`` and ``'W'`` alike). Docstrings and comments go.

Each top-level statement group (a function, a class, the statements between them) is a *block*: k-grams
never cross a block's edge, so the order of functions does not matter. A file the lexer cannot read to
its end keeps the tokens read before the error: a syntax error does not hide a copy.
"""
from __future__ import annotations

import ast
import builtins
import functools
import io
import keyword
import tokenize
from dataclasses import dataclass, field

MAX_BYTES = 1_000_000  # a module longer than this is read only this far (a hostile file stays cheap)
KEPT_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER, tokenize.TYPE_COMMENT}
BLOCK_STARTS = {"def", "class", "async", "@"}


@dataclass
class Tokens:
    """A submission's normalised tokens, in file order: each token's text, module, line and block."""

    modules: list[str] = field(default_factory=list)  # the module names, as ``module`` indexes them
    texts: list[str] = field(default_factory=list)
    module: list[int] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    block: list[int] = field(default_factory=list)  # unique across the submission's modules


def of_files(files: dict[str, str]) -> Tokens:
    """The tokens of every module of a submission (module name -> source), modules in name order."""
    tokens = Tokens()
    next_block = 0
    for name in sorted(files):
        tokens.modules.append(name)
        next_block = _add(tokens, len(tokens.modules) - 1, files[name][:MAX_BYTES], next_block)
    return tokens


def _raw(source: str) -> list[tokenize.TokenInfo]:
    """The lexer's tokens, as far as it reads (an error ends them, it does not lose them)."""
    read: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            read.append(token)
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return [t for t in read if t.type not in SKIPPED]


def _add(tokens: Tokens, module: int, source: str, block: int) -> int:
    """Append one module's tokens; returns the next free block number."""
    raw = _raw(source)
    depth, brackets, line_start = 0, 0, True
    opened = ""  # what the current top-level block is: "def" (with its decorators: "@"), or "stmt"
    for index, token in enumerate(raw):
        kind, text = token.type, token.string
        if kind in (tokenize.INDENT, tokenize.DEDENT):
            depth += 1 if kind == tokenize.INDENT else -1
            text = tokenize.tok_name[kind]
        elif line_start and depth == 0:
            block, opened = _top_level(text, opened, block)
        if kind == tokenize.NEWLINE:
            line_start = True
            if _after_docstring(raw, index):
                continue
            text = "NEWLINE"
        elif kind not in (tokenize.INDENT, tokenize.DEDENT):
            was_start, line_start = line_start, False
            if was_start and kind == tokenize.STRING and _alone(raw, index):
                continue  # a docstring, or a string as a statement: a comment in other words
            text = _normal(raw, index, brackets)
            if kind == tokenize.OP and text in ("(", "[", "{"):
                brackets += 1
            elif kind == tokenize.OP and text in (")", "]", "}"):
                brackets = max(0, brackets - 1)
        tokens.texts.append(text)
        tokens.module.append(module)
        tokens.line.append(tokens.line[-1] if kind in (tokenize.INDENT, tokenize.DEDENT) and tokens.line
                           else token.start[0])  # an indent belongs to the line before it, not to a docstring
        tokens.block.append(block)
    return block + 1


def _top_level(first: str, opened: str, block: int) -> tuple[int, str]:
    """(block, what it is) after a top-level line that begins with ``first``: a def or class (its decorators
    before it) starts a block of its own; plain statements in a row share one."""
    if first in BLOCK_STARTS:
        if opened == "@":
            return block, "@" if first == "@" else "def"
        return block + 1, "@" if first == "@" else "def"
    return (block, "stmt") if opened == "stmt" else (block + 1, "stmt")


def _alone(raw: list[tokenize.TokenInfo], index: int) -> bool:
    """Whether the string at ``index`` is a statement by itself (a docstring): a NEWLINE follows it."""
    return index + 1 < len(raw) and raw[index + 1].type == tokenize.NEWLINE


def _after_docstring(raw: list[tokenize.TokenInfo], index: int) -> bool:
    """Whether the NEWLINE at ``index`` ends a string statement (dropped with it)."""
    return index > 0 and raw[index - 1].type == tokenize.STRING and (
        index < 2 or raw[index - 2].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT))


def _normal(raw: list[tokenize.TokenInfo], index: int, brackets: int) -> str:
    """One token as compared: a chosen name is ``V``; a string or number its value."""
    token = raw[index]
    if token.type == tokenize.NAME:
        before = raw[index - 1].string if index else ""
        after = raw[index + 1].string if index + 1 < len(raw) else ""
        if token.string in KEPT_NAMES or before == "." or (brackets and after == "=" and before in "(,"):
            return token.string
        return "V"
    if token.type in (tokenize.STRING, tokenize.NUMBER):
        return _short_literal(token.string) if len(token.string) <= 64 else _literal(token.string)
    return token.string


def _literal(text: str) -> str:
    """A string or number by its value (``'W'`` and ``"W"`` alike); as written when it has none, or is too
    long to be worth reading (a number of a million digits is slow to read on Pythons without a limit)."""
    if len(text) > 4096:
        return text
    try:
        return repr(ast.literal_eval(text))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


_short_literal = functools.lru_cache(maxsize=1 << 14)(_literal)  # the course's keys, repeated: read once
