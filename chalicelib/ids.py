"""Complaint ids: ``CMP-`` + 26 Crockford base32 characters (ULID layout: time, then random),
so ids sort by creation; imported complaints get a deterministic id from their identity."""

from __future__ import annotations

import hashlib
import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _b32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_complaint_id() -> str:
    return "CMP-" + _b32(time.time_ns() // 1_000_000, 10) + _b32(int.from_bytes(os.urandom(10), "big"), 16)


def imported_complaint_id(source: str, external_id: str) -> str:
    digest = hashlib.sha256(f"{source}\x1f{external_id}".encode()).digest()
    return "CMP-" + _b32(int.from_bytes(digest[:17], "big"), 26)
