"""Analytics tables: conversations, events without personal data, daily counters.

Nothing here can name a citizen: the channel user is a keyed hash with its own purpose
(``analytics``, so it joins with no other table), texts are never stored, slots only as
"was set". The dashboard reads ``analytics_daily`` only (a few rows per day, channel and
figure), so a 90-day range never scans the raw events; ``analytics_events`` is the
audit trail the counters are built from (and can be rebuilt from).

Registered on ``backend.models.Base``; the schema belongs to the Alembic migration
``0008_analytics``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models import Base


class AnalyticsConversation(Base):
    """One Rasa session of one channel user, and the converter's state for it."""

    __tablename__ = "analytics_conversations"
    __table_args__ = (Index("ix_analytics_conversations_sender_hash_id", "sender_hash", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(40), default="")
    # Counted in analytics_daily (day, channel) once its first citizen message arrived.
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    # A fallback or abstention not followed by an answer or a case (see queries.CONTAINMENT).
    open_failure: Mapped[bool] = mapped_column(Boolean, default=False)
    contained: Mapped[bool] = mapped_column(Boolean, default=False)
    # Converter state: where the stream is (redeliveries are skipped), the turn in progress.
    last_ts: Mapped[float] = mapped_column(Float, default=0.0)
    last_keys: Mapped[str] = mapped_column(String(400), default="")
    user_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    replied: Mapped[bool] = mapped_column(Boolean, default=True)
    last_intent: Mapped[str] = mapped_column(String(80), default="")
    last_action: Mapped[str] = mapped_column(String(80), default="")
    rating_candidate: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AnalyticsEvent(Base):
    """One analytics event (see backend.analytics.convert.KINDS): the dashboard's raw material."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_day_kind", "day", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime]
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(40), default="")
    kind: Mapped[str] = mapped_column(String(30))
    intent: Mapped[str | None] = mapped_column(String(80), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    procedure_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AnalyticsDaily(Base):
    """A counter per day, channel, figure and key (a procedure, a rating, a reply-time bucket)."""

    __tablename__ = "analytics_daily"
    __table_args__ = (UniqueConstraint("day", "channel", "metric", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(40))
    metric: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(80), default="")
    value: Mapped[int] = mapped_column(Integer, default=0)
