"""Pseudonyms for chat ids and phone numbers, for logs and store keys.

Phone numbers and chat ids are personal data: they never appear in logs at INFO, and
store keys use a keyed hash of them instead (a plain hash of a phone number is easy
to reverse by trying every number).
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(value: str, key: str) -> str:
    """A short, stable, keyed hash of ``value`` (16 hex characters)."""
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
