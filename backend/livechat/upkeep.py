"""Keeping the live queue true to what citizens see: expired requests and auto-resumed conversations.

Two things change for a citizen without any agent doing anything, and the console must
follow them (the backend runs ``run_once`` every ``handoff_upkeep_seconds``):

* A request nobody takes within ``handoff_expire_minutes`` (in office hours the bot is
  paused and the citizen waits in the chat) expires: the citizen is told, on their
  channel, that the team will answer later, the bot resumes, and the request becomes a
  left message (out of the live queue; an agent can still answer it later).
* Rasa resumes a paused conversation by itself when its session expires
  (``session_expiration_time`` in bot/config: ``rasa_session_minutes``). A conversation an
  agent took and left idle that long is with the bot again, whatever the console thinks:
  it is marked ``returned`` and the console says so.

Each change is one conditional UPDATE first (several backend processes may run rounds, an
agent may take the request at the same moment: only one of them changes it, the citizen is
told once). Rasa may be down: a row it could not be told about goes back as it was and is
tried again on the next round. Every change is audited. No message text or channel id is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from backend import audit
from backend.interaction_models import HandoffRequest, HandoffState
from backend.livechat.rasa_api import RasaUnavailable

logger = logging.getLogger(__name__)

EXPIRED = (
    "Perdón por la espera: en este momento nadie del equipo puede atenderle. "
    "Dejamos registrada su consulta y una persona le responderá más tarde por este mismo medio. "
    "Mientras tanto, el asistente virtual sigue disponible para lo que necesite."
)
BATCH = 100


class Conversations(Protocol):
    """What upkeep needs of Rasa's HTTP API (``RasaConversations``)."""

    def events(self, sender_id: str) -> list[dict[str, Any]]: ...

    def resume(self, sender_id: str, channel: str, farewell: str) -> None: ...


class Finder(Protocol):
    def find(self, sender_hash: str, *, since: datetime) -> str | None: ...


@dataclass(frozen=True)
class Rules:
    expire_after: timedelta  # an open live request nobody took
    session_window: timedelta  # Rasa's session_expiration_time: a paused conversation resumes by itself


@dataclass
class Outcome:
    expired: int = 0
    returned: int = 0
    deferred: int = 0  # Rasa did not answer: tried again next round


def last_activity(events: list[dict[str, Any]]) -> datetime | None:
    """When anything last happened in the conversation (the tracker's newest event)."""
    stamps = [float(e["timestamp"]) for e in events if isinstance(e.get("timestamp"), int | float)]
    return datetime.fromtimestamp(max(stamps), timezone.utc) if stamps else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def run_once(session: Session, rasa: Conversations, senders: Finder, rules: Rules, *, now: datetime) -> Outcome:
    """One round (the caller commits)."""
    outcome = Outcome()
    _expire_waiting(session, rasa, senders, rules, now, outcome)
    _reconcile_taken(session, rasa, senders, rules, now, outcome)
    return outcome


def _due(session: Session, state: str, older: ColumnElement[bool]) -> Sequence[HandoffRequest]:
    """Up to BATCH requests in ``state`` past their time, oldest first."""
    query = select(HandoffRequest).where(HandoffRequest.state == state, older).order_by(HandoffRequest.id)
    return session.scalars(query.limit(BATCH)).all()


def _move(session: Session, handoff_id: int, from_state: str, to_state: str, at: datetime) -> bool:
    """One conditional UPDATE: True only for the one process (or agent) whose change it was."""
    result = session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == handoff_id, HandoffRequest.state == from_state)
        .values(state=to_state, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _expire_waiting(
    session: Session, rasa: Conversations, senders: Finder, rules: Rules, now: datetime, outcome: Outcome
) -> None:
    for row in _due(session, HandoffState.WAITING_AGENT, HandoffRequest.created_at < now - rules.expire_after):
        if not _move(session, row.id, HandoffState.WAITING_AGENT, HandoffState.MESSAGE_LEFT, now):
            continue  # an agent took it, or another backend process expired it, just now
        sender = senders.find(row.sender_hash, since=_aware(row.created_at))
        try:
            if sender is not None:  # else the conversation is gone from Rasa: nobody to tell
                rasa.resume(sender, row.channel, EXPIRED)
        except RasaUnavailable:
            _move(session, row.id, HandoffState.MESSAGE_LEFT, HandoffState.WAITING_AGENT, row.updated_at)
            outcome.deferred += 1
            continue
        audit.record(session, actor="system", action="handoff.expired", handoff_id=row.id, channel=row.channel)
        outcome.expired += 1


def _reconcile_taken(
    session: Session, rasa: Conversations, senders: Finder, rules: Rules, now: datetime, outcome: Outcome
) -> None:
    for row in _due(session, HandoffState.TAKEN, HandoffRequest.updated_at < now - rules.session_window):
        sender = senders.find(row.sender_hash, since=_aware(row.created_at))
        try:
            last = last_activity(rasa.events(sender)) if sender is not None else None
        except RasaUnavailable:
            outcome.deferred += 1
            continue
        if last is not None and now - last < rules.session_window:
            continue  # the citizen wrote recently: still the agent's
        if not _move(session, row.id, HandoffState.TAKEN, HandoffState.RETURNED, now):
            continue  # handed back meanwhile
        audit.record(
            session, actor="system", action="handoff.returned_to_bot", handoff_id=row.id, agent=row.taken_by or ""
        )
        outcome.returned += 1


def rules_of(expire_minutes: float, session_minutes: float) -> Rules:
    return Rules(timedelta(minutes=expire_minutes), timedelta(minutes=session_minutes))


def guarded_round(sessions: Any, rasa: Conversations, senders: Finder, rules: Rules) -> Outcome:
    """One round in its own transaction; a failure is logged (type only) and the next round retries."""
    try:
        with sessions.begin() as session:
            return run_once(session, rasa, senders, rules, now=datetime.now(timezone.utc))
    except Exception as exc:  # noqa: BLE001 - the loop must outlive a database hiccup
        logger.error("live-agent upkeep failed: %s", type(exc).__name__)
        return Outcome()
