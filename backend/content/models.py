"""Tables of the content store: procedures, their versions, and comments.

Registered on ``backend.models.Base`` so that the Alembic migrations own the schema
(``0004_content``). A version's ``data`` is the procedure exactly as the YAML file
holds it (the schema's dict), so files, database and index speak one format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models import Base, utcnow


class ContentProcedure(Base):
    """One procedure. ``revision`` is the optimistic lock: every change to it bumps it."""

    __tablename__ = "content_procedures"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    published_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    working_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # open draft / in review
    # Content hash both the YAML file and the database agreed on at the last sync (files <-> DB rule).
    synced_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContentVersion(Base):
    """One version of a procedure; immutable once published."""

    __tablename__ = "content_versions"
    __table_args__ = (UniqueConstraint("procedure_id", "number", name="uq_content_versions_procedure_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("content_procedures.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ContentComment(Base):
    """A comment or a workflow event (submitted, returned with a reason, published, restored)."""

    __tablename__ = "content_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("content_procedures.id", ondelete="CASCADE"), index=True
    )
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
