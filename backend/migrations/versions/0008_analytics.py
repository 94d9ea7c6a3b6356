"""Analytics: conversations, events without personal data, daily counters (issue 17).

Revision ID: 0008_analytics
Revises: 0007_casework
Create Date: 2026-12-02

Frozen on purpose, like 0001: plain SQLAlchemy types, never the application's models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_analytics"
down_revision: str | None = "0007_casework"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_conversations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("open_failure", sa.Boolean(), nullable=False),
        sa.Column("contained", sa.Boolean(), nullable=False),
        sa.Column("last_ts", sa.Float(), nullable=False),
        sa.Column("last_keys", sa.String(length=400), nullable=False),
        sa.Column("user_ts", sa.Float(), nullable=True),
        sa.Column("replied", sa.Boolean(), nullable=False),
        sa.Column("last_intent", sa.String(length=80), nullable=False),
        sa.Column("last_action", sa.String(length=80), nullable=False),
        sa.Column("rating_candidate", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_conversations")),
    )
    op.create_index(
        "ix_analytics_conversations_sender_hash_id", "analytics_conversations", ["sender_hash", "id"], unique=False
    )
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("procedure_id", sa.String(length=80), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    op.create_index(op.f("ix_analytics_events_conversation_id"), "analytics_events", ["conversation_id"], unique=False)
    op.create_index("ix_analytics_events_day_kind", "analytics_events", ["day", "kind"], unique=False)
    op.create_table(
        "analytics_daily",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily")),
        sa.UniqueConstraint("day", "channel", "metric", "key", name=op.f("uq_analytics_daily_day")),
    )


def downgrade() -> None:
    op.drop_table("analytics_daily")
    op.drop_index("ix_analytics_events_day_kind", table_name="analytics_events")
    op.drop_index(op.f("ix_analytics_events_conversation_id"), table_name="analytics_events")
    op.drop_table("analytics_events")
    op.drop_index("ix_analytics_conversations_sender_hash_id", table_name="analytics_conversations")
    op.drop_table("analytics_conversations")
