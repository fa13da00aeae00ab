"""Text for whatever the output goes to: every character where the stream's encoding has it, an ASCII
spelling where it does not (a legacy Windows code page, ``PYTHONIOENCODING=cp1252``, a pipe read as ASCII);
and no control character a submission can put there (:func:`visible`).

Feedback and questions are written in Unicode (``✓``, ``≈``, ``Γf``, ``σ``); a
stream that cannot encode a character gets its spelling here instead of a
``UnicodeEncodeError``, so a check never fails for the console it prints to.
"""
from __future__ import annotations

import codecs
import io
import re
import unicodedata
from typing import Any

ERRORS = "gatelab-ascii"  # the codec error handler that spells a character the encoding lacks
SPELLINGS = {
    "✓": "ok", "✗": "x", "≈": "~=", "≤": "<=", "≥": ">=", "≠": "!=", "→": "->", "←": "<-", "↔": "<->",
    "×": "x", "·": "*", "⊙": "*", "∘": "o", "…": "...", "—": "--", "–": "-", "‘": "'", "’": "'", "“": '"',
    "”": '"', "±": "+/-", "√": "sqrt", "∞": "inf", "∂": "d", "∇": "grad", "∑": "sum", "Σ": "Sum", "∏": "prod",
    "∈": "in", "⟨": "<", "⟩": ">", "‖": "||", "α": "alpha", "β": "beta", "γ": "gamma", "Γ": "Gamma",
    "δ": "delta", "Δ": "Delta", "ε": "eps", "η": "eta", "θ": "theta", "λ": "lambda", "μ": "mu", "π": "pi",
    "σ": "sigma", "τ": "tau", "φ": "phi", "ω": "omega", "•": "-", "█": "#", "░": ".",
}


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # marks, embeddings, overrides, isolates


def visible(text: str) -> str:
    """``text`` with every control character spelt out (``\\x1b``, ``\\x0d``), so nothing in it reaches a
    terminal as an escape sequence (a link, a cleared screen, a line rewritten by a carriage return or
    backspaces): the terminal renderer applies it to every value it prints. Newlines and tabs stay; a
    Windows line ending is a newline. Bidirectional marks, overrides and isolates (a
    terminal would show the text around them reordered) are spelt out too (``\\u202e``)."""
    text = _CONTROLS.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text.replace("\r\n", "\n"))
    return _BIDI.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _spell(error: UnicodeError) -> tuple[str, int]:
    """The ASCII spelling of what the encoding could not take: a known symbol's, else its letters without
    accents (``Zoë`` -> ``Zoe``), else ``?``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(SPELLINGS.get(c) or _plain(c) for c in text), error.end


def _plain(character: str) -> str:
    return unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode("ascii") or "?"


def encodes(stream: Any, text: str) -> bool:
    """Whether ``stream`` can write ``text`` as it is (its encoding has every character)."""
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def prepare(*streams: Any) -> None:
    """Make each text stream spell what its encoding lacks instead of raising (streams that encode
    everything, UTF-8 ones, are left as they are)."""
    codecs.register_error(ERRORS, _spell)
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper) and stream.errors != ERRORS and not encodes(stream, "✓≈Γσ"):
            stream.reconfigure(errors=ERRORS)


def marks(stream: Any) -> dict[str, str]:
    """The pass and fail marks ``stream`` can show."""
    shown = {"pass": "✓", "fail": "✗"} if encodes(stream, "✓✗") else {"pass": "ok", "fail": "x"}
    return {**shown, "pending": "?"}  # answered, marked at grading: neither right nor wrong here
