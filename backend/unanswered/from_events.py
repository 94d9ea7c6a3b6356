"""Unanswered turns seen in Rasa's event stream: low-confidence intents and the core fallback.

The action server records what its own actions see (``actions/unanswered.py``). Two kinds
of turns never reach a custom action, so they were never recorded: a rule or story that
answers a guessed intent with a plain response, and Rasa's core fallback
(``action_default_fallback``, when the policies are unsure). Every event goes through
Rasa's event broker into the backend's analytics recorder, which hands each new (not
replayed) event here, in the same transaction as the analytics rows.

A turn is the citizen's message and what the bot did until it listened again. When it ends:
- ``action_default_fallback`` ran -> reason "fallback";
- else the predicted intent's confidence was below ``unanswered_low_confidence`` -> reason
  "low_confidence" (the intent review).
Never recorded: messages typed while a form ran (a name, a document: the form's action or
loop events are in the turn), buttons (``/intent``), the backend's own ``EXTERNAL:``
notifications. The question is masked as the store masks every question (the form slots
set in the turn are masked too) and the sender kept only as the interaction hash. A turn
the action server already recorded (same sender, same masked question, shortly before:
its row is committed before Rasa publishes the turn) is not recorded twice.

Turns are read within one batch of events; Rasa publishes a turn's events together when
it saves the conversation, so a turn split between two batches is rare, and then the part
seen first decides (a fallback after the split is read as a low-confidence turn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.interactions import interaction_sender_hash
from backend.unanswered import store
from backend.unanswered.masking import mask_question
from backend.unanswered.models import Reason, UnansweredQuestion
from backend.unanswered.predicted import predicted_intent

EXTERNAL_PREFIX = "EXTERNAL: "
CORE_FALLBACK = "action_default_fallback"
FORM_SLOTS = ("full_name", "document_number", "contact")  # the case form's (actions/unanswered.py)
DUPLICATE_WINDOW = timedelta(minutes=10)


@dataclass
class _Turn:
    text: str
    channel: str
    intent: str
    confidence: float | None
    at: datetime
    fallback: bool = False
    in_form: bool = False
    secrets: list[str] = field(default_factory=list)


class UnansweredTap:
    """Reads raw events (in order, per sender) and records the unanswered turns they show."""

    def __init__(self, *, hash_key: str, case_code_prefix: str, threshold: float) -> None:
        self._key = hash_key
        self._prefix = case_code_prefix
        self._threshold = threshold
        self._turns: dict[str, _Turn] = {}

    def feed(self, session: Session, event: dict[str, Any]) -> None:
        """One new event of ``event["sender_id"]`` (the caller commits)."""
        sender = str(event.get("sender_id") or "")
        kind = event.get("event")
        turn = self._turns.get(sender)
        if kind == "user":
            self._end(session, sender)
            self._start(sender, event)
        elif turn is None:
            return
        elif kind == "action" and event.get("name") == "action_listen":
            self._end(session, sender)
        elif kind == "action" and event.get("name") == CORE_FALLBACK:
            turn.fallback = True
        elif _is_form_event(event):
            turn.in_form = True
        elif kind == "slot" and event.get("name") in FORM_SLOTS and event.get("value"):
            turn.secrets.append(str(event["value"]))
        elif kind in ("session_started", "restart"):
            self._turns.pop(sender, None)

    def finish(self, session: Session) -> None:
        """End of the batch: turns still open are decided on what was seen."""
        for sender in list(self._turns):
            self._end(session, sender)

    def _start(self, sender: str, event: dict[str, Any]) -> None:
        text = str(event.get("text") or "").strip()
        if not text or text.startswith(("/", EXTERNAL_PREFIX)):
            return
        intent, confidence = predicted_intent(event.get("parse_data") or {})
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0.0), timezone.utc)
        self._turns[sender] = _Turn(text, str(event.get("input_channel") or "")[:40], intent, confidence, at)

    def _end(self, session: Session, sender: str) -> None:
        turn = self._turns.pop(sender, None)
        if turn is None or turn.in_form:
            return
        if turn.fallback:
            reason = Reason.FALLBACK
        elif turn.confidence is not None and turn.confidence < self._threshold:
            reason = Reason.LOW_CONFIDENCE
        else:
            return
        sender_hash = interaction_sender_hash(self._key, sender)
        masked = mask_question(turn.text, case_code_prefix=self._prefix, secrets=turn.secrets)
        if not masked.strip() or _already_recorded(session, sender_hash, masked, turn.at):
            return
        store.record(
            session,
            sender_hash=sender_hash,
            channel=turn.channel,
            reason=reason,
            question=masked,
            intent=turn.intent,
            intent_confidence=turn.confidence,
            candidates=[],
            case_code_prefix=self._prefix,
            secrets=turn.secrets,
        )


def _is_form_event(event: dict[str, Any]) -> bool:
    """A form ran in the turn: its action, its loop, or its rejection of the message."""
    name = str(event.get("name") or "")
    kind = event.get("event")
    if kind == "active_loop":
        return bool(name)
    return kind in ("action", "action_execution_rejected") and name.endswith("_form")


def _already_recorded(session: Session, sender_hash: str, masked: str, at: datetime) -> bool:
    """The action server stored this turn already (its row is committed before Rasa publishes the turn)."""
    q = UnansweredQuestion
    found = session.scalar(
        select(q.id)
        .where(q.sender_hash == sender_hash, q.question == masked, q.created_at >= at - DUPLICATE_WINDOW)
        .limit(1)
    )
    return found is not None
