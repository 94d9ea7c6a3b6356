"""What staff do with cases: find them, read them, move them along, annotate them.

Plain functions over a SQLAlchemy session with keyword-only arguments; the staff
API (backend.api_staff) is a thin HTTP layer over them, and tests call them too.
Each change writes its history row, its audit row and (for status changes) its
notification in the caller's single transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from backend import audit, notifications
from backend.models import Case, CaseNote, CaseStatusChange
from backend.workflow import Status, check_transition, parse_status

_Row = TypeVar("_Row", bound=tuple[Any, ...])


class CaseNotFound(LookupError):
    """No case has that code."""


class ConcurrentChange(RuntimeError):
    """Someone else changed the case's status first; reload and try again."""


@dataclass(frozen=True)
class CaseFilter:
    status: Status | None = None
    procedure_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None


def _filtered(query: Select[_Row], f: CaseFilter) -> Select[_Row]:
    if f.status is not None:
        query = query.where(Case.status == f.status.value)
    if f.procedure_id:
        query = query.where(Case.procedure_id == f.procedure_id)
    if f.created_from is not None:
        query = query.where(Case.created_at >= f.created_from)
    if f.created_to is not None:
        query = query.where(Case.created_at < f.created_to)
    if f.updated_from is not None:
        query = query.where(Case.updated_at >= f.updated_from)
    if f.updated_to is not None:
        query = query.where(Case.updated_at < f.updated_to)
    return query


def list_cases(session: Session, *, filters: CaseFilter, page: int, page_size: int) -> tuple[list[Case], int]:
    """One page of cases (newest first) and the total that match the filters."""
    total = session.scalar(_filtered(select(func.count()).select_from(Case), filters)) or 0
    rows = session.scalars(
        _filtered(select(Case), filters)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), int(total)


def get_case(session: Session, *, code: str) -> Case:
    case = session.scalar(
        select(Case).where(Case.code == code).options(selectinload(Case.history), selectinload(Case.notes))
    )
    if case is None:
        raise CaseNotFound(code)
    return case


def change_status(
    session: Session,
    *,
    code: str,
    to_status: str,
    note: str | None,
    actor: str,
    skip_channels: Collection[str] = (),
) -> CaseStatusChange:
    """Moves the case along the workflow; refuses transitions the workflow does not allow.

    The UPDATE only matches if the status is still the one we read, so two officers
    acting at once cannot both move the case from the same status.
    """
    new = parse_status(to_status)
    case = session.scalar(select(Case).where(Case.code == code).with_for_update())
    if case is None:
        raise CaseNotFound(code)
    current = Status(case.status)
    check_transition(current, new)
    now = datetime.now(timezone.utc)
    result = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == current.value)
        .values(
            status=new.value,
            updated_at=now,
            status_since=now,
            closed_at=now if new is Status.CERRADO else Case.closed_at,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentChange(code)
    session.refresh(case)
    change = CaseStatusChange(
        case_id=case.id, changed_by=actor, changed_at=now, from_status=current.value, to_status=new.value, note=note
    )
    session.add(change)
    session.flush()
    outbox = notifications.enqueue(session, case, change, skip_channels=skip_channels, now=now)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.status_changed",
        case_id=case.id,
        from_status=current.value,
        to_status=new.value,
        note_chars=len(note or ""),
        notification_id=outbox.id if outbox is not None else None,
        notification_queued=outbox is not None,
    )
    return change


def add_note(session: Session, *, code: str, text: str, actor: str) -> CaseNote:
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None:
        raise CaseNotFound(code)
    now = datetime.now(timezone.utc)
    note = CaseNote(case_id=case.id, author=actor, created_at=now, text=text)
    session.add(note)
    session.execute(
        update(Case).where(Case.id == case.id).values(updated_at=now).execution_options(synchronize_session=False)
    )
    session.flush()
    audit.record(session, actor=actor, action="case.note_added", case_id=case.id, note_id=note.id, note_chars=len(text))
    return note


class NotAssignable(ValueError):
    """A closed or anonymized case is nobody's work any more."""


def assign(session: Session, *, code: str, assignee: str | None, actor: str) -> Case:
    """Gives the case to ``assignee`` (a staff username) or, with None, back to the queue."""
    case = session.scalar(select(Case).where(Case.code == code).with_for_update())
    if case is None:
        raise CaseNotFound(code)
    if assignee is not None and (case.status == Status.CERRADO.value or case.anonymized_at is not None):
        raise NotAssignable(code)
    previous = case.assignee
    if previous == assignee:
        return case
    case.assignee = assignee
    case.updated_at = datetime.now(timezone.utc)
    session.flush()
    audit.record(
        session, actor=actor, action="case.assigned", case_id=case.id, from_assignee=previous, to_assignee=assignee
    )
    return case


def record_view(session: Session, *, case: Case, actor: str) -> None:
    """Reading a case shows personal data; the audit log says who looked."""
    audit.record(session, actor=actor, action="case.viewed", case_id=case.id)
