"""The dashboard's "biggest unanswered groups": the inbox's own groups, counted in the range.

The groups come from ``backend.unanswered.grouping`` through the inbox's cache (so staff
see on the dashboard the very groups an editor handles in the inbox, and the grouping is
not computed twice); this module only counts, per group, the open questions asked in the
dashboard's date range and channel, and picks the newest of them as the sample. Questions
are stored already masked (``backend.unanswered.masking``), so the sample names no one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.analytics.tables import Table
from backend.unanswered.grouping import Group
from backend.unanswered.models import Reason, Status, UnansweredQuestion

LIMIT = 10


@dataclass(frozen=True)
class TopGroup:
    count: int
    sample: str
    procedure_id: str
    procedure_title: str
    score: float | None


def asked_in(session: Session, start: date, end: date, channel: str | None) -> dict[int, str]:
    """Open inbox questions asked from ``start`` to ``end`` (both included, UTC days): id -> masked text."""
    q = UnansweredQuestion
    query = select(q.id, q.question).where(
        q.status == Status.OPEN,
        q.reason.in_(Reason.INBOX),
        q.created_at >= datetime.combine(start, time.min, tzinfo=UTC),
        q.created_at < datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )
    if channel:
        query = query.where(q.channel == channel)
    return {int(row_id): str(text) for row_id, text in session.execute(query)}


def top_groups(
    groups: Sequence[Group], asked: Mapping[int, str], titles: Mapping[str, str], limit: int = LIMIT
) -> list[TopGroup]:
    """The ``limit`` groups with most questions in the range, biggest first (then as the inbox orders them)."""
    found: list[TopGroup] = []
    for group in groups:
        ids = [i for i in group.ids if i in asked]
        if not ids:
            continue
        closest = group.closest
        pid = closest.procedure_id if closest else ""
        found.append(
            TopGroup(
                count=len(ids),
                sample=asked[max(ids)],
                procedure_id=pid,
                procedure_title=titles.get(pid, ""),
                score=closest.score if closest else None,
            )
        )
    found.sort(key=lambda g: -g.count)  # stable: ties keep the inbox's order (most recent first)
    return found[:limit]


def table(groups: Sequence[TopGroup]) -> Table:
    rows: list[tuple[str | int | float | None, ...]] = [
        (g.sample, g.count, g.procedure_id or None, g.procedure_title or None, g.score) for g in groups
    ]
    header = ("ejemplo", "preguntas", "tramite_mas_cercano", "titulo_del_tramite", "similitud")
    return Table("sin_respuesta", "Preguntas sin respuesta: los grupos más grandes", header, rows)
