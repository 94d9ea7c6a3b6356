"""The audit log: who did what to which case, and when.

Every change to a case goes through here in the same transaction as the change
itself, so there is never a change without its audit row (or the reverse).
``details`` must not carry personal data: ids, statuses and lengths only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from backend.models import AuditEvent


def record(session: Session, *, actor: str, action: str, case_id: int | None = None, **details: Any) -> AuditEvent:
    event = AuditEvent(at=datetime.now(timezone.utc), actor=actor, action=action, case_id=case_id, details=details)
    session.add(event)
    return event
