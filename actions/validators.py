"""Pure checks of what citizens type into forms (no Rasa, easy to unit test)."""

from __future__ import annotations

import re
import unicodedata

from backend.hashing import normalize_document

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{6,18}[0-9]$")
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)+$")
GENERIC_DOCUMENT_RE = re.compile(r"^[0-9A-Z]{6,12}$")


def clean_name(text: str) -> str | None:
    """'  ana   pérez ' -> 'Ana Pérez'; None unless it looks like a name and surname."""
    collapsed = " ".join(unicodedata.normalize("NFC", text).split())
    if not (3 <= len(collapsed) <= 120) or not NAME_RE.match(collapsed):
        return None
    return " ".join(part[:1].upper() + part[1:] for part in collapsed.split(" "))


def clean_document(text: str, profile: str = "generic") -> str | None:
    """Normalised document number, or None. Country profiles live in ``actions.documents``."""
    value = normalize_document(text)
    if profile == "generic":
        return value if GENERIC_DOCUMENT_RE.match(value) else None
    from actions.documents import validate_document

    return value if validate_document(profile, value) else None


def clean_contact(text: str) -> str | None:
    """An e-mail (lower-cased) or a phone number (digits and a leading +), else None."""
    value = text.strip()
    if EMAIL_RE.match(value):
        return value.lower()
    if PHONE_RE.match(value):
        digits = re.sub(r"[^0-9]", "", value)
        if 7 <= len(digits) <= 15:
            return ("+" if value.startswith("+") else "") + digits
    return None
