"""A 1-5 score from what a citizen wrote ("9 de 10", "cuatro estrellas", "le doy un 4").

Standard library only: the action server stores ratings with it and the analytics
converter (backend/analytics/convert.py) reads the same score from Rasa's events, so
both must agree on what "5 estrellas" means.
"""

from __future__ import annotations

import math
import re

import textnorm

_NUMBER_WORDS = {
    "cero": 0, "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip
_NUM = r"(\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_SCALE_RE = re.compile(rf"\b{_NUM}\s*(?:/|de|sobre)\s*(5|10|cinco|diez)\b")
_UNIT_RE = re.compile(rf"\b{_NUM}\s*(?:estrellas?|puntos?|⭐)")
_VERB_RE = re.compile(rf"\b(?:doy|pongo|califico(?: con)?|puntaje|calificacion|nota)\s*:?\s*(?:un |una )?{_NUM}\b")
_BARE_RE = re.compile(r"^\s*([1-5])\s*$")


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def parse_score(text: str) -> int | None:
    """A 1-5 score from what the citizen wrote, or None ("9 de 10" -> 5, "cero estrellas" -> 1)."""
    plain = textnorm.plain(text)
    match = _SCALE_RE.search(plain)
    if match:
        value, scale = _number(match.group(1)), _number(match.group(2))
        return _clamp(value if scale == 5 else math.ceil(value / 2))
    for pattern in (_UNIT_RE, _VERB_RE, _BARE_RE):
        match = pattern.search(plain)
        if match:
            value = _number(match.group(1))
            if value > 10:
                return None
            return _clamp(value if value <= 5 else math.ceil(value / 2))
    return None


def _clamp(value: int) -> int:
    return min(5, max(1, value))
