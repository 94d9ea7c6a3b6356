"""Failed citizen verifications, counted per case code and per channel user (lockout).

Revision ID: 0005_verification_attempts
Revises: 0002_interactions
Create Date: 2026-12-02

Frozen on purpose, like 0001: plain SQLAlchemy types, never the application's models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_verification_attempts"
down_revision: str | None = "0004_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_attempts")),
    )
    op.create_index(
        op.f("ix_verification_attempts_attempted_at"), "verification_attempts", ["attempted_at"], unique=False
    )
    op.create_index(
        "ix_verification_attempts_key_hash_attempted_at",
        "verification_attempts",
        ["key_hash", "attempted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_verification_attempts_key_hash_attempted_at", table_name="verification_attempts")
    op.drop_index(op.f("ix_verification_attempts_attempted_at"), table_name="verification_attempts")
    op.drop_table("verification_attempts")
