"""What the actions read from a conversation's events, beyond rasa_sdk's own tracker helpers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

UNKNOWN_CHANNEL = "desconocido"


def input_channel(tracker: Tracker) -> str:
    """The channel of the latest message, as stored with cases and interactions (40 characters at most)."""
    return (tracker.get_latest_input_channel() or UNKNOWN_CHANNEL)[:40]


def intent_name(event_or_message: dict[str, Any]) -> str:
    """The intent of a user event or of ``tracker.latest_message`` ("" when there is none)."""
    parse = event_or_message.get("parse_data", event_or_message)
    return str((parse.get("intent") or {}).get("name") or "")
