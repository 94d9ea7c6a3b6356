"""The case officers' work queue: filtered, sorted, paged, with overdue cases marked.

"Overdue" means the case stayed in its status longer than the workflow's expected
working days (``backend.workflow.EXPECTED_DAYS``), counted from ``status_since``. The
check is turned into one cut-off date per status so the database filters and counts
overdue cases itself (paging stays exact) instead of Python sifting every row.
The queue never carries personal data: it lists codes, procedures, statuses, dates
and assignees; names and contacts are only on the (audited) case page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from backend import spreadsheet_csv
from backend.models import Case
from backend.workflow import EXPECTED_DAYS, Status, add_working_days, expected_date

_Row = TypeVar("_Row", bound=tuple[Any, ...])

UNASSIGNED = "-"  # the assignee filter's value for "nobody"
EXPORT_LIMIT = 20_000  # one CSV never holds more rows than this


class Sort(StrEnum):
    OLDEST = "oldest"  # longest open first (age)
    NEWEST = "newest"
    LONGEST_IN_STATUS = "in_status"  # closest to (or furthest past) its target first
    UPDATED = "updated"  # most recently touched first
    STATUS = "status"
    PROCEDURE = "procedure"
    ASSIGNEE = "assignee"


@dataclass(frozen=True)
class QueueFilter:
    status: Status | None = None
    procedure_id: str | None = None
    assignee: str | None = None  # a username, or UNASSIGNED
    min_age_days: int | None = None  # opened at least this many days ago
    overdue_only: bool = False
    include_closed: bool = False
    sort: Sort = Sort.OLDEST


def overdue_cutoff(days: int, today: date) -> date:
    """The latest day a case may have entered a status with ``days`` expected days and be overdue today.

    ``add_working_days`` never decreases as its start moves later, so walking back from
    today finds the last start whose expected date is already past.
    """
    start = today
    while add_working_days(start, days) >= today:
        start -= timedelta(days=1)
    return start


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.utc)


def overdue_condition(today: date) -> ColumnElement[bool]:
    """SQL for "past its target": in a status with expected days, entered before its cut-off."""
    parts = [
        and_(Case.status == status.value, Case.status_since < _midnight_after(overdue_cutoff(days, today)))
        for status, days in EXPECTED_DAYS.items()
        if days is not None
    ]
    return or_(*parts) if parts else false()


def is_overdue(case: Case, today: date) -> bool:
    try:
        status = Status(case.status)
    except ValueError:
        return False
    due = expected_date(status, case.status_since)
    return due is not None and due < today


def _filtered(query: Select[_Row], f: QueueFilter, now: datetime) -> Select[_Row]:
    if f.status is not None:
        query = query.where(Case.status == f.status.value)
    elif not f.include_closed:
        query = query.where(Case.status != Status.CERRADO.value)
    if f.procedure_id:
        query = query.where(Case.procedure_id == f.procedure_id)
    if f.assignee == UNASSIGNED:
        query = query.where(Case.assignee.is_(None))
    elif f.assignee:
        query = query.where(Case.assignee == f.assignee)
    if f.min_age_days:
        query = query.where(Case.created_at <= now - timedelta(days=f.min_age_days))
    if f.overdue_only:
        query = query.where(overdue_condition(now.date()))
    return query


_ORDER = {
    Sort.OLDEST: (Case.created_at.asc(), Case.id.asc()),
    Sort.NEWEST: (Case.created_at.desc(), Case.id.desc()),
    Sort.LONGEST_IN_STATUS: (Case.status_since.asc(), Case.id.asc()),
    Sort.UPDATED: (Case.updated_at.desc(), Case.id.desc()),
    Sort.STATUS: (Case.status.asc(), Case.created_at.asc(), Case.id.asc()),
    Sort.PROCEDURE: (Case.procedure_id.asc(), Case.created_at.asc(), Case.id.asc()),
    Sort.ASSIGNEE: (Case.assignee.asc(), Case.created_at.asc(), Case.id.asc()),
}


@dataclass(frozen=True)
class QueueRow:
    code: str
    procedure_id: str
    status: str
    channel: str
    created_at: datetime
    updated_at: datetime
    status_since: datetime
    assignee: str | None
    due: date | None
    overdue: bool
    age_days: int


def _row(case: Case, now: datetime) -> QueueRow:
    try:
        due = expected_date(Status(case.status), case.status_since)
    except ValueError:
        due = None
    return QueueRow(
        code=case.code,
        procedure_id=case.procedure_id,
        status=case.status,
        channel=case.channel,
        created_at=case.created_at,
        updated_at=case.updated_at,
        status_since=case.status_since,
        assignee=case.assignee,
        due=due,
        overdue=due is not None and due < now.date(),
        age_days=max(0, (now - case.created_at).days),
    )


def page(
    session: Session, f: QueueFilter, *, number: int, size: int, now: datetime | None = None
) -> tuple[list[QueueRow], int, int]:
    """One page of the queue, the total that match, and how many of those are overdue."""
    now = now or datetime.now(timezone.utc)
    total = session.scalar(_filtered(select(func.count()).select_from(Case), f, now)) or 0
    overdue = (
        session.scalar(_filtered(select(func.count()).select_from(Case), f, now).where(overdue_condition(now.date())))
        or 0
    )
    cases = session.scalars(
        _filtered(select(Case), f, now).order_by(*_ORDER[f.sort]).offset((number - 1) * size).limit(size)
    ).all()
    return [_row(c, now) for c in cases], int(total), int(overdue)


def export_rows(session: Session, f: QueueFilter, *, now: datetime | None = None) -> list[QueueRow]:
    """Every case of the filtered queue (up to EXPORT_LIMIT), in the queue's order."""
    now = now or datetime.now(timezone.utc)
    cases = session.scalars(_filtered(select(Case), f, now).order_by(*_ORDER[f.sort]).limit(EXPORT_LIMIT)).all()
    return [_row(c, now) for c in cases]


CSV_HEADER = (
    "codigo",
    "tramite",
    "estado",
    "canal",
    "creado_utc",
    "actualizado_utc",
    "en_estado_desde_utc",
    "fecha_objetivo",
    "vencido",
    "asignado_a",
)


def to_csv(rows: Iterable[QueueRow]) -> str:
    return spreadsheet_csv.to_csv(
        CSV_HEADER,
        (
            (
                r.code,
                r.procedure_id,
                r.status,
                r.channel,
                r.created_at.strftime("%Y-%m-%d %H:%M"),
                r.updated_at.strftime("%Y-%m-%d %H:%M"),
                r.status_since.strftime("%Y-%m-%d %H:%M"),
                r.due.isoformat() if r.due else "",
                "si" if r.overdue else "no",
                r.assignee or "",
            )
            for r in rows
        ),
    )
