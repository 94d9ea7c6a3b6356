"""The agents' side of handoff requests in SQL: the inbox, taking one, giving it back.

Taking is one conditional UPDATE (still open and nobody's), so two agents clicking at
the same moment cannot both get the conversation: the database decides, on SQLite and
on PostgreSQL alike, and the loser is told who has it. Every change is audited in the
caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend import audit
from backend.interaction_models import HandoffRequest, HandoffState

# Requests an agent can still pick up ("no_message": asked outside office hours, left nothing).
OPEN_STATES = (HandoffState.WAITING_AGENT, HandoffState.MESSAGE_LEFT)


class HandoffNotFound(LookupError):
    pass


class AlreadyTaken(RuntimeError):
    """Another agent took it first (or it was closed meanwhile)."""

    def __init__(self, taken_by: str | None) -> None:
        super().__init__("taken")
        self.taken_by = taken_by


class NotYours(PermissionError):
    """Only the agent who took a conversation writes in it or gives it back."""


@dataclass(frozen=True)
class InboxItem:
    id: int
    reference: str
    state: str
    channel: str
    created_at: datetime
    summary: str
    message: str | None
    taken_by: str | None


def inbox(session: Session, *, agent: str) -> tuple[list[InboxItem], list[InboxItem]]:
    """Requests waiting for someone (oldest first), and the ones ``agent`` has taken."""
    rows = session.scalars(
        select(HandoffRequest)
        .where(
            (HandoffRequest.state.in_(OPEN_STATES))
            | ((HandoffRequest.state == HandoffState.TAKEN) & (HandoffRequest.taken_by == agent))
        )
        .order_by(HandoffRequest.created_at, HandoffRequest.id)
        .limit(500)
    ).all()
    items = [_item(r) for r in rows]
    return [i for i in items if i.state != HandoffState.TAKEN], [i for i in items if i.state == HandoffState.TAKEN]


def waiting_live(session: Session) -> int:
    """Citizens waiting in the chat for a person now (the console's alert)."""
    found = session.scalar(
        select(func.count(HandoffRequest.id)).where(HandoffRequest.state == HandoffState.WAITING_AGENT)
    )
    return int(found or 0)


def get(session: Session, handoff_id: int) -> HandoffRequest:
    row = session.get(HandoffRequest, handoff_id)
    if row is None:
        raise HandoffNotFound(handoff_id)
    return row


def take(session: Session, *, handoff_id: int, agent: str) -> HandoffRequest:
    """Gives the conversation to ``agent``; AlreadyTaken if someone else was first."""
    now = datetime.now(timezone.utc)
    result = session.execute(
        update(HandoffRequest)
        .where(
            HandoffRequest.id == handoff_id,
            HandoffRequest.state.in_(OPEN_STATES),
            HandoffRequest.taken_by.is_(None),
        )
        .values(state=HandoffState.TAKEN, taken_by=agent, taken_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    row = get(session, handoff_id)
    session.refresh(row)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyTaken(row.taken_by)
    audit.record(session, actor=agent, action="handoff.taken", handoff_id=handoff_id, channel=row.channel)
    return row


def taken_by(session: Session, *, handoff_id: int, agent: str) -> HandoffRequest:
    row = get(session, handoff_id)
    if row.state != HandoffState.TAKEN or row.taken_by != agent:
        raise NotYours(handoff_id)
    return row


def record_message(session: Session, *, row: HandoffRequest, agent: str, text: str) -> None:
    row.updated_at = datetime.now(timezone.utc)
    audit.record(session, actor=agent, action="handoff.message_sent", handoff_id=row.id, chars=len(text))


def release(session: Session, *, row: HandoffRequest, agent: str) -> None:
    """Closes the request: the bot has the conversation again."""
    row.state = HandoffState.CLOSED
    row.updated_at = datetime.now(timezone.utc)
    audit.record(session, actor=agent, action="handoff.handed_back", handoff_id=row.id)


def _item(row: HandoffRequest) -> InboxItem:
    return InboxItem(
        id=row.id,
        reference=row.reference,
        state=row.state,
        channel=row.channel,
        created_at=row.created_at,
        summary=row.summary,
        message=row.message,
        taken_by=row.taken_by,
    )
