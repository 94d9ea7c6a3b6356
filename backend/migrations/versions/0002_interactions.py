"""Interactions: answer feedback, ratings, suggestions, handoff requests (no personal data).

Revision ID: 0002_interactions
Revises: 0001
Create Date: 2026-11-22

Frozen on purpose, like 0001: plain SQLAlchemy types, never the application's models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_interactions"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("procedure_id", sa.String(length=80), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_feedback")),
    )
    for column in ("created_at", "procedure_id", "sender_hash"):
        op.create_index(op.f(f"ix_answer_feedback_{column}"), "answer_feedback", [column], unique=False)

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
    )
    for column in ("created_at", "sender_hash"):
        op.create_index(op.f(f"ix_ratings_{column}"), "ratings", [column], unique=False)

    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
    )
    for column in ("created_at", "sender_hash", "topic"):
        op.create_index(op.f(f"ix_suggestions_{column}"), "suggestions", [column], unique=False)

    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("during_office_hours", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_handoff_requests_reference")),
    )
    for column in ("created_at", "sender_hash", "state"):
        op.create_index(op.f(f"ix_handoff_requests_{column}"), "handoff_requests", [column], unique=False)


def downgrade() -> None:
    op.drop_table("handoff_requests")
    op.drop_table("suggestions")
    op.drop_table("ratings")
    op.drop_table("answer_feedback")
