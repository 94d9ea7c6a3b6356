"""Rasa's events (as its event broker publishes them) -> analytics events without personal data.

Pure: no database, no clock. ``convert`` reads one raw event, updates the conversation's
state (an ``AnalyticsConversation`` row, or any object with its attributes) and returns
what happened. What it keeps: the channel, the intent and its confidence, the procedure and
score of a knowledge-base answer, an abstention, a fallback, a handoff, a case opened,
"¿le sirvió?" yes/no, a 1-5 rating and the reply time. What it never keeps: the texts
citizens or the bot wrote and the values of slots (names, documents, phones, e-mails, case
codes); a citizen's text is read only to find a rating ("le doy un 4") and then dropped.

Which raw events mean what (the names are the bot's, see bot/domain/):
- ``user``: a citizen's message (``EXTERNAL: `` ones are the backend's notifications, not
  the citizen's); intent ``nlu_fallback`` is a fallback.
- ``bot``: the first after a citizen's message gives the reply time; ``custom.type ==
  kb_answer`` is an answer; response ``utter_kb_not_sure`` an abstention; ``utter_case_created``
  a case opened.
- ``action``: ``action_default_fallback`` a fallback; ``action_save_kb_feedback`` a yes/no
  (the citizen's intent: affirm or not); ``action_save_feedback`` a rating when one was given.
- ``slot`` ``handoff_reference`` set: a handoff to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from textnorm.ratings import parse_score

EXTERNAL_PREFIX = "EXTERNAL: "
SESSION_START = "action_session_start"
KINDS = (
    "conversation_started",
    "message_in",
    "message_out",
    "reply",
    "answer",
    "abstention",
    "fallback",
    "handoff",
    "case_opened",
    "feedback",
    "rating",
)


class ConversationState(Protocol):
    """What the converter reads and writes about one conversation."""

    counted: bool
    channel: str
    day: date
    handoff: bool
    open_failure: bool
    user_ts: float | None
    replied: bool
    last_intent: str
    last_action: str
    rating_candidate: int | None


@dataclass(frozen=True)
class Emitted:
    """One analytics event; only the fields its kind uses are set."""

    kind: str
    ts: float
    intent: str | None = None
    confidence: float | None = None
    procedure_id: str | None = None
    score: float | None = None
    value: int | None = None

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)

    @property
    def day(self) -> date:
        return self.at.date()


def datetime_of(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def utc_day(ts: float) -> date:
    return datetime_of(ts).date()


def convert(state: ConversationState, event: dict[str, Any]) -> list[Emitted]:
    """The analytics events one raw Rasa event gives, updating ``state``."""
    ts = float(event.get("timestamp") or 0.0)
    kind = event.get("event")
    if kind == "user":
        return _user(state, event, ts)
    if kind == "bot":
        return _bot(state, event, ts)
    if kind == "action":
        return _action(state, str(event.get("name") or ""), ts)
    if kind == "slot" and event.get("name") == "handoff_reference" and event.get("value") is not None:
        state.handoff = True
        return [Emitted("handoff", ts)]
    return []


def _user(state: ConversationState, event: dict[str, Any], ts: float) -> list[Emitted]:
    text = str(event.get("text") or "")
    if text.startswith(EXTERNAL_PREFIX):
        return []
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")[:80]
    confidence = _float(intent.get("confidence"))
    out: list[Emitted] = []
    if not state.counted:
        state.counted = True
        state.channel = str(event.get("input_channel") or "")[:40]
        state.day = utc_day(ts)
        out.append(Emitted("conversation_started", ts))
    out.append(Emitted("message_in", ts, intent=name or None, confidence=confidence))
    if name == "nlu_fallback":
        state.open_failure = True
        out.append(Emitted("fallback", ts, intent=name, confidence=confidence))
    state.user_ts = ts
    state.replied = False
    state.last_intent = name
    state.rating_candidate = _rating(parse, text)
    return out


def _bot(state: ConversationState, event: dict[str, Any], ts: float) -> list[Emitted]:
    out = [Emitted("message_out", ts)]
    if not state.replied and state.user_ts is not None:
        out.append(Emitted("reply", ts, value=max(0, round((ts - state.user_ts) * 1000))))
        state.replied = True
    data = event.get("data") or {}
    custom = data.get("custom") if isinstance(data, dict) else None
    response = str((event.get("metadata") or {}).get("utter_action") or "")
    if isinstance(custom, dict) and custom.get("type") == "kb_answer":
        state.open_failure = False
        procedure = str(custom.get("procedure_id") or "")[:80] or None
        out.append(Emitted("answer", ts, procedure_id=procedure, score=_float(custom.get("score"))))
    elif response == "utter_kb_not_sure":
        state.open_failure = True
        out.append(Emitted("abstention", ts))
    elif response == "utter_case_created":
        state.open_failure = False
        out.append(Emitted("case_opened", ts))
    return out


def _action(state: ConversationState, name: str, ts: float) -> list[Emitted]:
    state.last_action = name[:80]
    if name == "action_default_fallback":
        state.open_failure = True
        return [Emitted("fallback", ts)]
    if name == "action_save_kb_feedback":
        return [Emitted("feedback", ts, value=1 if state.last_intent == "affirm" else 0)]
    if name == "action_save_feedback" and state.rating_candidate is not None:
        score, state.rating_candidate = state.rating_candidate, None
        return [Emitted("rating", ts, value=score)]
    return []


def _rating(parse: dict[str, Any], text: str) -> int | None:
    """The score action_save_feedback would store for this message (same rules, same order)."""
    entity = next(
        (
            str(e.get("value"))
            for e in parse.get("entities") or []
            if isinstance(e, dict) and e.get("entity") == "rating"
        ),
        None,
    )
    if entity:
        return parse_score(entity)
    return None if text.startswith("/") else parse_score(text)


def _float(value: object) -> float | None:
    try:
        return None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def is_contained(state: ConversationState) -> bool:
    """Containment: a counted conversation with no handoff and no unresolved failure."""
    return state.counted and not state.handoff and not state.open_failure
