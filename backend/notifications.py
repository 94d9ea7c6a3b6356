"""Status-change notifications: what is queued, and what the citizen is told.

A notification is an outbox row written in the same transaction as the status
change (so neither exists without the other); ``backend.dispatcher`` delivers it
through Rasa's trigger-intent API, and Rasa's own response (bot/domain/
notifications.yml) words the message on the channel the citizen used.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from backend.models import Case, CaseStatusChange, NotificationOutbox, OutboxState
from backend.workflow import CITIZEN_LABEL, Status

# The intent and entities Rasa receives; bot/domain/notifications.yml declares them.
INTENT = "case_status_changed"
ENTITY_CODE = "notified_case_code"
ENTITY_STATUS = "notified_status"


def should_notify(case: Case, skip_channels: Collection[str]) -> bool:
    """Only citizens who accepted notifications, on channels that can push a message."""
    return bool(
        case.notify_opt_in
        and case.sender_id
        and case.anonymized_at is None
        and case.channel
        and case.channel not in skip_channels
    )


def enqueue(
    session: Session, case: Case, change: CaseStatusChange, *, skip_channels: Collection[str], now: datetime
) -> NotificationOutbox | None:
    """Queues the notification of ``change`` if the citizen should get one."""
    if not should_notify(case, skip_channels):
        return None
    row = NotificationOutbox(
        case_id=case.id,
        status_change_id=change.id,
        to_status=change.to_status,
        state=OutboxState.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    return row


def trigger_entities(case_code: str, to_status: str) -> dict[str, str]:
    """The entities Rasa's response fills its template with."""
    try:
        label = CITIZEN_LABEL[Status(to_status)]
    except ValueError:
        label = to_status
    return {ENTITY_CODE: case_code, ENTITY_STATUS: label}
