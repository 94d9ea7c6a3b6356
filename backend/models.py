"""SQLAlchemy 2 typed models of the case store.

A case keeps only what the procedure needs about the citizen, in nullable columns
that the privacy tools clear while the case itself (procedure, status, dates) stays
for statistics. Document numbers are never stored in clear text: a keyed hash lets
us list a citizen's cases and a second keyed hash of the last four characters, bound
to the case code, lets the citizen prove who they are.

The schema is owned by the Alembic migrations in ``backend/migrations``; a test
checks that ``alembic upgrade head`` yields exactly this metadata.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names: migrations can then drop or alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    SQLite has no time zones and returns naive values; without this, comparisons
    between stored and fresh timestamps fail or, worse, silently shift.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012 - SQLAlchemy's hook


class CaseCounter(Base):
    """One row per year; incremented atomically to allocate public case codes."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    """A citizen's request. Personal columns are nullable: erasure clears them."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    procedure_id: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    # Identifies one form submission (retries and duplicated webhooks carry the same key).
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    notify_opt_in: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Any change (status, note, anonymization); set explicitly by the code that changes it.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When the case entered its current status: expected dates count from here.
    status_since: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    # Set when the personal data below was removed (erasure or retention).
    anonymized_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The staff username working the case (console "asignar"); None while unassigned.
    assignee: Mapped[str | None] = mapped_column(String(120), index=True, nullable=True)

    # --- personal data (minimum the procedures need) ---
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact: Mapped[str | None] = mapped_column(String(200), nullable=True)
    document_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    verification_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Keyed hash of the channel user id: "mis trámites" lists the cases opened from it.
    sender_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    # The channel user id itself, kept only when the citizen accepted notifications:
    # Rasa needs it to deliver a message. Never logged.
    sender_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    history: Mapped[list[CaseStatusChange]] = relationship(
        back_populates="case", order_by="CaseStatusChange.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.id", cascade="all, delete-orphan"
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="case", order_by="ConsentRecord.id", cascade="all, delete-orphan"
    )


class CaseStatusChange(Base):
    """One step of a case's life: who moved it, when, from what, to what, and why."""

    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_status: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    case: Mapped[Case] = relationship(back_populates="history")


class CaseNote(Base):
    """A staff note on a case that does not change its status."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="notes")


class ConsentRecord(Base):
    """Proof that the citizen accepted a privacy notice (which version, for what, when)."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # "tramite": processing the request; "notificaciones": being told of status changes.
    purpose: Mapped[str] = mapped_column(String(40), default="tramite")
    notice_version: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(default=True)
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(40), default="")

    case: Mapped[Case] = relationship(back_populates="consents")


class AuditEvent(Base):
    """Who did what to which case, when. ``details`` never holds personal data."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxState:
    """States of a notification; plain strings so both databases store them alike."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NotificationOutbox(Base):
    """A status-change notification waiting to be (or already) delivered through Rasa.

    Written in the same transaction as the status change, so a change is never
    committed without its notification; one row per change (unique), so it is
    never queued twice.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status_change_id: Mapped[int] = mapped_column(ForeignKey("case_status_changes.id", ondelete="CASCADE"), unique=True)
    to_status: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set while a dispatcher holds the row; another dispatcher may take it after this.
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A short technical reason (HTTP status, exception class); never message content.
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class VerificationAttempt(Base):
    """A failed citizen verification, counted per case code and per channel user.

    The lockout lives here, not in the conversation: a new chat (a new widget session,
    a new sender id) must not get a fresh set of guesses. Keys are keyed hashes
    (``scope`` says of what); rows older than the longest window are deleted as new
    ones arrive.
    """

    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verification_attempts_key_hash_attempted_at", "key_hash", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(10))  # "code" or "sender"
    key_hash: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
