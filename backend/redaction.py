"""Removing personal data from free text before it is stored (feedback, suggestions, handoffs).

E-mail addresses, phone numbers and document numbers are replaced by placeholders.
Names cannot be recognised reliably in free text (spaCy's small Spanish model has weak
NER), so the bot asks for names only inside the case form, whose answers are never
stored as free text.
"""

from __future__ import annotations

import re

import textnorm
from backend.codes import DEFAULT_PREFIX, code_in_text_re
from textnorm.patterns import EMAIL_IN_TEXT_RE

MAX_TEXT = 2000

# Digits with the separators of phone and document numbers ("+54 9 11 5555-1234",
# "30.123.456", "12.345.678-K"), possibly with a short letter prefix or a check letter.
_NUMBERISH_RE = re.compile(r"(?<![\w@])\+?(?:[A-Za-z]{1,3}-?)?\(?\d[\d\s.\-/()]*\d(?:-?[A-Za-z])?(?![\w@])")
# Long letter+digit tokens (CURP, NIE, passport numbers).
_ALNUM_TOKEN_RE = re.compile(r"\b[A-Za-z0-9]{6,}\b")


def redact(text: str, limit: int = MAX_TEXT, *, case_code_prefix: str = DEFAULT_PREFIX) -> str:
    """The text with e-mails, phone numbers and document numbers replaced; trimmed to ``limit``.

    Case codes with the deployment's prefix (``EXP-2026-000123``, "exp 2026 123") are kept:
    they are not personal data and the agent needs them.
    """
    codes: list[str] = []

    def keep_code(match: re.Match[str]) -> str:
        codes.append(match.group(0))
        return f"\x00{len(codes) - 1}\x00"

    value = textnorm.nfc(text)
    value = EMAIL_IN_TEXT_RE.sub("[correo]", value)
    value = code_in_text_re(case_code_prefix).sub(keep_code, value)

    def numberish(match: re.Match[str]) -> str:
        chunk = match.group(0)
        if sum(ch.isdigit() for ch in chunk) < 5:
            return chunk
        trailing = chunk[len(chunk.rstrip(" ")) :]
        return "[número]" + trailing

    value = _NUMBERISH_RE.sub(numberish, value)
    value = _ALNUM_TOKEN_RE.sub(
        lambda m: "[número]" if sum(c.isdigit() for c in m.group(0)) >= 4 else m.group(0), value
    )
    value = re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], value)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
