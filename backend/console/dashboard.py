"""What the landing page shows each person: for content staff, the work waiting for them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.accounts.models import StaffUser
from backend.content import service as content


def attention(db: Session, user: StaffUser) -> dict[str, Any]:
    """Changes in review, drafts in progress and stale procedures (content staff only)."""
    roles = user.roles
    if not roles & {"editor", "reviewer"}:
        return {"in_review": [], "drafts": [], "stale": [], "content_staff": False}
    return {
        "content_staff": True,
        "in_review": content.list_procedures(db, status="in_review"),
        "drafts": content.list_procedures(db, status="draft"),
        "stale": content.list_procedures(db, stale=True),
    }
