"""Splitting long bot texts under a platform's limit, at the most natural boundary.

Telegram counts message length in UTF-16 code units (an emoji counts twice), and
WhatsApp's limits are close to that; measuring in UTF-16 units is the safe choice
for both. A chunk is cut at a paragraph break if there is one in the second half
of the allowed length, else at a line break, a sentence end, a space, and only as a
last resort in the middle of a word (never inside a surrogate pair, since we cut
between Python code points).
"""

from __future__ import annotations

import re
from collections.abc import Callable

LengthFn = Callable[[str], int]

# Separators, best first. A cut is made right after the separator.
_SEPARATORS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int, length: LengthFn) -> int:
    """The largest number of code points of ``text`` whose length is <= limit."""
    if length(text) <= limit:
        return len(text)
    low, high = 0, len(text)
    while low < high:  # binary search: length() is monotonic in the prefix size
        middle = (low + high + 1) // 2
        if length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def split_text(text: str, limit: int, *, length: LengthFn = utf16_len) -> list[str]:
    """``text`` cut into chunks of at most ``limit`` units each, none of them empty."""
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        size = _fitting_prefix(rest, limit, length)
        if size >= len(rest):
            chunks.append(rest)
            break
        window = rest[:size]
        cut = 0
        for separator in _SEPARATORS:
            position = window.rfind(separator)
            if position > 0 and position + len(separator) > size // 2:
                cut = position + len(separator)
                break
        if cut == 0:
            cut = max(size, 1)
        chunk = rest[:cut].rstrip()
        if chunk:
            chunks.append(chunk)
        rest = rest[cut:].lstrip()
    return chunks


_SPACES = re.compile(r"[ \t]{4,}")


def single_line(text: str) -> str:
    """``text`` without line breaks or tabs (template parameters may not contain them)."""
    flat = re.sub(r"\s*\n+\s*", " · ", text.strip()).replace("\t", " ")
    return _SPACES.sub("   ", flat)
