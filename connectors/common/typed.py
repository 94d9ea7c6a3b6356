"""What a citizen types is text, never an intent.

Rasa reads a message that starts with ``/`` as an intent with entities
(``/open_case{"procedure": ...}``), bypassing the NLU. That is how our own buttons
work, but typed text must not be able to do it: otherwise anyone could fill slots the
forms validate. Leading slashes of typed text are therefore removed; only button
payloads (which the channel produced itself) and the few Telegram commands the
channel maps explicitly reach Rasa as intents.
"""

from __future__ import annotations


def as_typed_text(text: str) -> str:
    """``text`` with leading slashes removed, so Rasa parses it with the NLU."""
    return text.strip().lstrip("/").strip()
