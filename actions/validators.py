"""Pure checks of what citizens type into forms (no Rasa, easy to unit test).

Citizens answer a question with a sentence as often as with the bare value
("me llamo Ana Pérez", "mi dni es 30.123.456", "mi mail es ana@x.com"), so each
check first finds the value inside the sentence and then validates it.
"""

from __future__ import annotations

import re

from actions.documents import validate_document
from backend.hashing import normalize_document
from textnorm import nfc
from textnorm.patterns import EMAIL_IN_TEXT_RE, EMAIL_RE

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,18}[0-9]$")
PHONE_IN_TEXT_RE = re.compile(r"\+?[0-9][0-9 ()./-]{5,18}[0-9]")
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)+$")
# A run of letters/digits with the separators people put inside document numbers
# ("30.123.456", "12.345.678-K", "V-20.123.456"); runs of digits separated by single
# spaces ("30 123 456") are joined afterwards.
DOCUMENT_IN_TEXT_RE = re.compile(r"[0-9A-Za-z]+(?:[.\-/][0-9A-Za-z]+)*")
_DIGIT_GROUP_RE = re.compile(r"^[0-9][0-9. \-]*$")

_NAME_PREFIXES = re.compile(
    r"^\s*(?:(?:hola|buenas|bueno|ok|dale)[,.!\s]+)?"
    r"(?:me\s+llamo|mi\s+nombre\s+(?:completo\s+)?es|soy|nombre\s*:?|a\s+nombre\s+de|es)\s+",
    re.IGNORECASE,
)
_DOCUMENT_WORDS = re.compile(
    r"\b(?:mi|el|la|es|numero|número|nro|n°|no|de|documento|dni|cedula|cédula|ci|rut|run|curp|nie|"
    r"pasaporte|identidad|cuil|cuit)\b\.?",
    re.IGNORECASE,
)


def clean_name(text: str) -> str | None:
    """'  me llamo ana   pérez ' -> 'Ana Pérez'; None unless it looks like a name and surname."""
    collapsed = " ".join(nfc(text).split())
    collapsed = _NAME_PREFIXES.sub("", collapsed).strip(" .,!")
    if not (3 <= len(collapsed) <= 120) or not NAME_RE.match(collapsed):
        return None
    return " ".join(part[:1].upper() + part[1:] for part in collapsed.split(" "))


def document_candidate(text: str) -> str:
    """The part of a sentence that looks like a document number ('mi dni es 30.123.456' -> '30.123.456').

    Empty when there are no digits at all.
    """
    stripped = _DOCUMENT_WORDS.sub(" ", text)
    runs: list[str] = []
    previous_end = -2
    for match in DOCUMENT_IN_TEXT_RE.finditer(stripped):
        run = match.group(0)
        joinable = runs and stripped[previous_end : match.start()] == " " and _DIGIT_GROUP_RE.match(runs[-1])
        if joinable and _DIGIT_GROUP_RE.match(run):
            runs[-1] = f"{runs[-1]} {run}"
        else:
            runs.append(run)
        previous_end = match.end()
    with_digits = [run for run in runs if any(ch.isdigit() for ch in run)]
    if not with_digits:
        return ""  # every identity document number has digits
    return max(with_digits, key=lambda run: len(normalize_document(run)))


def clean_document(text: str, profile: str = "generic") -> str | None:
    """Normalised document number valid for the country profile, or None.

    Raises ``actions.documents.UnknownProfile`` for a profile that does not exist:
    that is a configuration error, not the citizen's.
    """
    value = normalize_document(document_candidate(text))
    if not value:
        return None
    return value if validate_document(profile, value) else None


def clean_contact(text: str) -> str | None:
    """An e-mail (lower-cased) or a phone number (digits and a leading +), else None."""
    value = text.strip()
    email = value if EMAIL_RE.match(value) else next(iter(EMAIL_IN_TEXT_RE.findall(value)), None)
    if email:
        return email.lower()
    candidates = [value] if PHONE_RE.match(value) else PHONE_IN_TEXT_RE.findall(value)
    for candidate in candidates:
        candidate = candidate.strip()
        digits = re.sub(r"[^0-9]", "", candidate)
        if 7 <= len(digits) <= 15:
            return ("+" if candidate.startswith("+") else "") + digits
    return None
