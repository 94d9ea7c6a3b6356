"""Unanswered questions findable by the citizen's interaction sender hash (privacy export and erasure).

Revision ID: 0009_inbox_gaps
Revises: 0008_analytics
Create Date: 2026-12-02

Frozen on purpose, like 0001: plain SQLAlchemy, never the application's models.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_inbox_gaps"
down_revision: str | None = "0008_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_unanswered_questions_sender_hash"), "unanswered_questions", ["sender_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_unanswered_questions_sender_hash"), table_name="unanswered_questions")
