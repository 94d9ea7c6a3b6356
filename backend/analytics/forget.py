"""A citizen's analytics rows: export them, unlink them on erasure, and the raw events' retention.

Analytics rows hold no text, name or document, but each conversation keeps the keyed
hash of the channel user (purpose ``analytics``), which links a person's conversations
together for as long as it stays. Erasure replaces that hash with a random value per
conversation (the rows become anonymous statistics, no longer linked to each other or
to anyone); retention deletes raw events older than the period and the conversations
idle since then. Neither touches ``analytics_daily``: the dashboard's figures for past
days stay exactly what they were.

The citizen is found through the channel ids their cases keep (``Case.sender_id``),
hashed with the recorder's own key and purpose, so this must run before the cases are
anonymized.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend.analytics.models import AnalyticsConversation, AnalyticsEvent
from backend.hashing import keyed_hash

ERASED_PREFIX = "borrado-"


def analytics_hashes(hash_key: str, sender_ids: Iterable[str | None]) -> set[str]:
    """The analytics hashes of these channel ids (as ``Recorder`` computes them)."""
    return {keyed_hash(hash_key, "analytics", sender) for sender in sender_ids if sender}


def _conversations(session: Session, hashes: Collection[str]) -> list[AnalyticsConversation]:
    if not hashes:
        return []
    query = select(AnalyticsConversation).where(AnalyticsConversation.sender_hash.in_(list(hashes)))
    return list(session.scalars(query.order_by(AnalyticsConversation.id)).all())


def export_rows(session: Session, hashes: Collection[str]) -> list[dict[str, Any]]:
    """The citizen's analytics conversations and their events, as plain JSON-able data."""
    result = []
    for conv in _conversations(session, hashes):
        events = session.scalars(
            select(AnalyticsEvent).where(AnalyticsEvent.conversation_id == conv.id).order_by(AnalyticsEvent.id)
        ).all()
        result.append(
            {
                "inicio": conv.started_at.isoformat(),
                "canal": conv.channel,
                "derivada_a_una_persona": conv.handoff,
                "eventos": [
                    {
                        "fecha": e.at.isoformat(),
                        "tipo": e.kind,
                        "intencion": e.intent,
                        "confianza": e.confidence,
                        "tramite": e.procedure_id,
                        "puntaje": e.score,
                        "valor": e.value,
                    }
                    for e in events
                ],
            }
        )
    return result


def unlink(session: Session, hashes: Collection[str]) -> int:
    """Replaces these hashes by a random value per conversation (the caller commits); returns how many."""
    conversations = _conversations(session, hashes)
    for conv in conversations:
        conv.sender_hash = ERASED_PREFIX + uuid.uuid4().hex
    return len(conversations)


def apply_retention(session: Session, *, days: int, now: datetime, dry_run: bool = False) -> tuple[int, int]:
    """Deletes raw events older than ``days`` and conversations idle as long; returns (events, conversations).

    The daily counters stay. A conversation still active keeps its row (so it goes on
    where it was) but loses its old events.
    """
    if days < 0:
        raise ValueError("retention days must be >= 0")
    cutoff = now - timedelta(days=days)
    old_events = AnalyticsEvent.at < cutoff
    # An idle conversation's events are all older than the cutoff: the first delete takes them.
    idle = AnalyticsConversation.last_ts < cutoff.timestamp()
    events = int(session.scalar(select(func.count(AnalyticsEvent.id)).where(old_events)) or 0)
    conversations = int(session.scalar(select(func.count(AnalyticsConversation.id)).where(idle)) or 0)
    if not dry_run:
        session.execute(delete(AnalyticsEvent).where(old_events).execution_options(synchronize_session=False))
        session.execute(delete(AnalyticsConversation).where(idle).execution_options(synchronize_session=False))
    return events, conversations
