"""SQLAlchemy 2 typed models of the case store.

A case keeps only what the procedure needs about the citizen. Document numbers are
never stored in clear text: a keyed hash lets us list a citizen's cases and a second
keyed hash of the last four characters lets the citizen prove who they are.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class CaseCounter(Base):
    """One row per year; incremented atomically to allocate public case codes."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_cases_idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    procedure_id: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact: Mapped[str | None] = mapped_column(String(200), nullable=True)
    document_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    verification_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notify_opt_in: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    history: Mapped[list["CaseStatusChange"]] = relationship(
        back_populates="case", order_by="CaseStatusChange.id", cascade="all, delete-orphan"
    )


class CaseStatusChange(Base):
    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_status: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    case: Mapped[Case] = relationship(back_populates="history")


class ConsentRecord(Base):
    """Proof that the citizen accepted the privacy notice, and which version of it."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    notice_version: Mapped[str] = mapped_column(String(40))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
