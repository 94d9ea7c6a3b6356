"""Content store of the staff console: procedures, versions, comments.

Revision ID: 0004_content
Revises: 0003_accounts
Create Date: 2026-12-02

Frozen on purpose, like the earlier migrations: plain SQLAlchemy types, never the application's models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_content"
down_revision: str | None = "0003_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "content_procedures",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("working_version_id", sa.Integer(), nullable=True),
        sa.Column("synced_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_procedures")),
    )
    op.create_table(
        "content_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("procedure_id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("submitted_by", sa.String(length=120), nullable=True),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("published_at", UTC_DATETIME, nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["content_procedures.id"],
            name=op.f("fk_content_versions_procedure_id_content_procedures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_versions")),
        sa.UniqueConstraint("procedure_id", "number", name="uq_content_versions_procedure_number"),
    )
    op.create_index(op.f("ix_content_versions_procedure_id"), "content_versions", ["procedure_id"], unique=False)
    op.create_table(
        "content_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("procedure_id", sa.String(length=80), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["content_procedures.id"],
            name=op.f("fk_content_comments_procedure_id_content_procedures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_comments")),
    )
    op.create_index(op.f("ix_content_comments_procedure_id"), "content_comments", ["procedure_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_content_comments_procedure_id"), table_name="content_comments")
    op.drop_table("content_comments")
    op.drop_index(op.f("ix_content_versions_procedure_id"), table_name="content_versions")
    op.drop_table("content_versions")
    op.drop_table("content_procedures")
