"""Keys from answers, check values and sealed texts for the locked question bank (format 2).

Each (question, variant, canonical answer) gets its own keys from
PBKDF2-HMAC-SHA256 over the answer, salted with the release's random salt,
the question id and the variant, so every guess costs ``iterations`` hashes.
From a key come a *tag* (which sealed texts belong to this answer), a *check*
(is this the right answer) and the sealing keys. A text is sealed SIV-style:
the synthetic IV is an HMAC of the plaintext, the keystream HMAC-SHA256 in
counter mode under the IV, so a box opens only with its answer's key and any
change to it is detected. Standard library only (hashlib, hmac).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

ITERATIONS = 2000  # PBKDF2 rounds per guess: see benchmarks/bench_lock.py for what this costs either side
_IV = 16


class Tampered(ValueError):
    """A sealed text whose key is right but whose content was changed."""


@dataclass(frozen=True)
class Keys:
    """The keys one answer opens: ``tag`` and ``check`` are public values, the rest stay secret."""

    mac: bytes
    enc: bytes

    def value(self, label: bytes) -> str:
        return hmac.new(self.mac, label, hashlib.sha256).hexdigest()[:32]

    @property
    def tag(self) -> str:
        """Names the sealed texts this answer opens (without it, nothing tells the boxes apart)."""
        return self.value(b"tag")

    @property
    def check_value(self) -> str:
        """Listed for a variant's right answers only: what tells right from wrong."""
        return self.value(b"check")


def derive(salt: str, question_id: str, variant: str, form: str, iterations: int = ITERATIONS) -> Keys:
    """The keys of one canonical answer ``form`` to one variant of one question."""
    context = "\x1f".join(["gatelab-lock-2", salt, question_id, variant]).encode()
    key = hashlib.pbkdf2_hmac("sha256", form.encode(), context, iterations)  # one block: 32 bytes
    return Keys(hmac.new(key, b"mac", hashlib.sha256).digest(), hmac.new(key, b"enc", hashlib.sha256).digest())


def _stream(keys: Keys, iv: bytes, size: int) -> bytes:
    blocks = (hmac.new(keys.enc, iv + n.to_bytes(4, "big"), hashlib.sha256).digest() for n in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def _siv(keys: Keys, plain: bytes) -> bytes:
    return hmac.new(keys.mac, b"siv\x00" + plain, hashlib.sha256).digest()[:_IV]


def seal(keys: Keys, text: str) -> str:
    """``text`` encrypted and authenticated under ``keys`` (base64 of IV + ciphertext)."""
    plain = text.encode()
    iv = _siv(keys, plain)
    return base64.b64encode(iv + bytes(a ^ b for a, b in zip(plain, _stream(keys, iv, len(plain))))).decode()


def unseal(keys: Keys, box: str) -> str:
    """The text sealed in ``box``; raises :class:`Tampered` if the box was not sealed by ``keys`` as it is."""
    try:
        data = base64.b64decode(box.encode(), validate=True)
    except ValueError:
        raise Tampered("a sealed text is not base64") from None
    iv, body = data[:_IV], data[_IV:]
    plain = bytes(a ^ b for a, b in zip(body, _stream(keys, iv, len(body))))
    if len(iv) != _IV or not hmac.compare_digest(_siv(keys, plain), iv):
        raise Tampered("a sealed text does not authenticate")
    return plain.decode("utf-8")
