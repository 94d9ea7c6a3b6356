"""Questions the bot did not answer well, for the console's improvement loop.

Revision ID: 0006_unanswered
Revises: 0005_verification_attempts
Create Date: 2026-12-02

Frozen on purpose, like 0001: plain SQLAlchemy types, never the application's models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_unanswered"
down_revision: str | None = "0005_verification_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("intent", sa.String(length=80), nullable=False),
        sa.Column("intent_confidence", sa.Float(), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("handled_by", sa.String(length=80), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_target", sa.String(length=200), nullable=True),
        sa.Column("corrected_intent", sa.String(length=80), nullable=True),
        sa.Column("intent_reviewed_by", sa.String(length=80), nullable=True),
        sa.Column("intent_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
    )
    for column in ("created_at", "reason", "status"):
        op.create_index(op.f(f"ix_unanswered_questions_{column}"), "unanswered_questions", [column], unique=False)


def downgrade() -> None:
    for column in ("status", "reason", "created_at"):
        op.drop_index(op.f(f"ix_unanswered_questions_{column}"), table_name="unanswered_questions")
    op.drop_table("unanswered_questions")
