"""Keyed hashes that let us verify a citizen without storing their document number."""

from __future__ import annotations

import hashlib
import hmac
import re

_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def normalize_document(document_number: str) -> str:
    """Upper-case letters and digits only: '30.123.456' and '30123456' are the same."""
    return _NOT_ALNUM.sub("", document_number).upper()


def keyed_hash(key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value``, separated by ``purpose`` so hashes never cross uses."""
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def document_hash(key: str, document_number: str) -> str:
    return keyed_hash(key, "document", normalize_document(document_number))


def verification_hash(key: str, case_code: str, last4: str) -> str:
    """Bound to the case code, so equal last-4 digits give different hashes per case."""
    return keyed_hash(key, f"verify:{case_code}", normalize_document(last4)[-4:])


def sender_hash(key: str, sender_id: str) -> str:
    return keyed_hash(key, "sender", sender_id)
