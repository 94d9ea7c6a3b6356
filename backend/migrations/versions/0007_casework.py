"""Case work and live agents in the console: case assignees; who took a handoff request.

Revision ID: 0007_casework
Revises: 0006_unanswered
Create Date: 2026-12-02

Frozen on purpose, like 0001: plain SQLAlchemy types, never the application's models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_casework"
down_revision: str | None = "0006_unanswered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assignee", sa.String(length=120), nullable=True))
        batch.create_index(batch.f("ix_cases_assignee"), ["assignee"], unique=False)
    with op.batch_alter_table("handoff_requests") as batch:
        batch.add_column(sa.Column("taken_by", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_requests") as batch:
        batch.drop_column("taken_at")
        batch.drop_column("taken_by")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(batch.f("ix_cases_assignee"))
        batch.drop_column("assignee")
