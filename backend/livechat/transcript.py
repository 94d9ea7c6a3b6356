"""A conversation's turns as the agent reads them, from the events of Rasa's tracker.

Turns before the agent took the conversation are history: they pass through
``backend.redaction`` (the agent gets the gist, not the citizen's documents or phone
numbers; the bot's summary already works that way). Turns after the take are the live
chat and are shown as written, because the agent is answering them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from backend.livechat.rasa_api import AGENT_MARK
from backend.redaction import redact

HISTORY_TURNS = 12


@dataclass(frozen=True)
class Turn:
    at: datetime
    who: str  # "citizen", "bot" or "agent"
    text: str
    live: bool


def _when(event: dict[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return datetime.fromtimestamp(0, tz=timezone.utc)


def turns(events: list[dict[str, Any]], *, taken_at: datetime | None, case_code_prefix: str) -> list[Turn]:
    """Redacted recent history, then every live turn since ``taken_at``."""
    history: list[Turn] = []
    live: list[Turn] = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        text = str(event.get("text") or "").strip()
        if not text:
            continue
        metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        who = "citizen" if kind == "user" else ("agent" if (metadata or {}).get(AGENT_MARK) else "bot")
        at = _when(event)
        if taken_at is not None and at >= taken_at:
            live.append(Turn(at=at, who=who, text=text, live=True))
        else:
            shown = "[tocó un botón]" if text.startswith("/") else redact(text, 500, case_code_prefix=case_code_prefix)
            history.append(Turn(at=at, who=who, text=shown, live=False))
    return history[-HISTORY_TURNS:] + live


def last_user_message(events: list[dict[str, Any]]) -> datetime | None:
    """When the citizen last wrote (their own messages: not the backend's ``EXTERNAL:`` ones)."""
    stamps = [
        float(e["timestamp"])
        for e in events
        if e.get("event") == "user"
        and isinstance(e.get("timestamp"), int | float)
        and not str(e.get("text") or "").startswith("EXTERNAL: ")
    ]
    return datetime.fromtimestamp(max(stamps), timezone.utc) if stamps else None
