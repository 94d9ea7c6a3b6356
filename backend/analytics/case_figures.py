"""Cases for the dashboard: opened in the range by current status, median time to close.

Read from the case store itself (not from the conversation events): staff also open and
close cases, and a case's status changes long after the conversation that opened it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Case


@dataclass
class CaseFigures:
    by_status: dict[str, int] = field(default_factory=dict)
    closed: int = 0
    median_days_to_close: float | None = None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC)


def case_figures(session: Session, start: date, end: date, channel: str | None = None) -> CaseFigures:
    since, until = _bounds(start, end)
    opened = select(Case.status, func.count()).where(Case.created_at >= since, Case.created_at < until)
    closed = select(Case.created_at, Case.closed_at).where(Case.closed_at >= since, Case.closed_at < until)
    if channel:
        opened, closed = opened.where(Case.channel == channel), closed.where(Case.channel == channel)
    result = CaseFigures(by_status={status: int(n) for status, n in session.execute(opened.group_by(Case.status))})
    durations = [
        (closed_at - created_at).total_seconds() / 86400
        for created_at, closed_at in session.execute(closed)
        if closed_at is not None and created_at is not None
    ]
    result.closed = len(durations)
    result.median_days_to_close = statistics.median(durations) if durations else None
    return result
