"""The staff API: case officers and admins find, read and move cases along.

Token authentication with roles (``VENTANILLA_STAFF_TOKENS``); every change and every
read of a case's personal data is written to the audit log in the same transaction.
Responses never include document hashes or the citizen's channel id.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import func, select, update

from backend import audit, casework
from backend.deps import Admin, DbSession, Officer, State, case_code
from backend.models import AuditEvent, Case, NotificationOutbox, OutboxState
from backend.schemas import (
    AuditEventOut,
    AuditPageOut,
    CaseDetailOut,
    CasePageOut,
    CaseSummaryOut,
    HistoryEntryOut,
    NoteIn,
    NoteOut,
    NotificationOut,
    StatusChangeIn,
    WorkflowOut,
)
from backend.workflow import (
    ALLOWED_TRANSITIONS,
    CITIZEN_EXPLANATION,
    CITIZEN_LABEL,
    InvalidTransition,
    Status,
    parse_status,
)

router = APIRouter(prefix="/staff", tags=["staff API"])

MAX_PAGE_SIZE = 200
# Beyond this a page number is nonsense; unbounded ones overflow the database's integers (500).
MAX_PAGE = 1_000_000


def _utc(value: datetime | None) -> datetime | None:
    """Query dates without a zone are read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _summary(case: Case) -> CaseSummaryOut:
    return CaseSummaryOut(
        code=case.code,
        procedure_id=case.procedure_id,
        status=case.status,
        channel=case.channel,
        created_at=case.created_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        anonymized=case.anonymized_at is not None,
    )


def _detail(case: Case) -> CaseDetailOut:
    current = Status(case.status)
    return CaseDetailOut(
        **_summary(case).model_dump(),
        full_name=case.full_name,
        contact=case.contact,
        notify_opt_in=case.notify_opt_in,
        status_label=CITIZEN_LABEL[current],
        citizen_explanation=CITIZEN_EXPLANATION[current],
        allowed_next=sorted(s.value for s in ALLOWED_TRANSITIONS[current]),
        history=[
            HistoryEntryOut(
                changed_at=h.changed_at,
                changed_by=h.changed_by,
                from_status=h.from_status,
                to_status=h.to_status,
                note=h.note,
            )
            for h in case.history
        ],
        notes=[NoteOut(id=n.id, created_at=n.created_at, author=n.author, text=n.text) for n in case.notes],
    )


@router.get("/workflow", response_model=WorkflowOut)
def workflow(_: Officer) -> WorkflowOut:
    """The statuses, which transitions are allowed, and how each status reads to citizens."""
    return WorkflowOut(
        statuses=[s.value for s in Status],
        transitions={s.value: sorted(t.value for t in ALLOWED_TRANSITIONS[s]) for s in Status},
        labels={s.value: CITIZEN_LABEL[s] for s in Status},
    )


@router.get("/cases", response_model=CasePageOut)
def list_cases(
    _: Officer,
    session: DbSession,
    status_: Annotated[str | None, Query(alias="status", description="p. ej. en_revision")] = None,
    procedure_id: Annotated[str | None, Query(max_length=80)] = None,
    created_from: Annotated[datetime | None, Query(description="ISO 8601; sin zona = UTC")] = None,
    created_to: Annotated[datetime | None, Query(description="exclusivo")] = None,
    updated_from: datetime | None = None,
    updated_to: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> CasePageOut:
    """Cases, newest first, filtered by status, procedure and creation/update dates."""
    try:
        wanted = parse_status(status_) if status_ else None
    except InvalidTransition as exc:
        raise HTTPException(422, detail=str(exc)) from None
    filters = casework.CaseFilter(
        status=wanted,
        procedure_id=procedure_id,
        created_from=_utc(created_from),
        created_to=_utc(created_to),
        updated_from=_utc(updated_from),
        updated_to=_utc(updated_to),
    )
    for low, high, name in (
        (filters.created_from, filters.created_to, "created"),
        (filters.updated_from, filters.updated_to, "updated"),
    ):
        if low and high and low >= high:
            raise HTTPException(422, detail=f"{name}_from debe ser anterior a {name}_to.")
    items, total = casework.list_cases(session, filters=filters, page=page, page_size=page_size)
    return CasePageOut(
        items=[_summary(c) for c in items],
        total=total,
        page=page,
        page_size=page_size,
        pages=math.ceil(total / page_size),
    )


@router.get("/cases/{code}", response_model=CaseDetailOut, responses={404: {"description": "No such case"}})
def get_case(code: str, member: Officer, session: DbSession, state: State) -> CaseDetailOut:
    """One case with its history and notes (the read is audited)."""
    case = casework.get_case(session, code=case_code(state, code))
    casework.record_view(session, case=case, actor=member.name)
    return _detail(case)


@router.post(
    "/cases/{code}/status",
    response_model=CaseDetailOut,
    responses={
        404: {"description": "No such case"},
        409: {"description": "Transition not allowed, or changed concurrently"},
    },
)
def change_status(code: str, body: StatusChangeIn, member: Officer, session: DbSession, state: State) -> CaseDetailOut:
    """Moves the case to ``status`` (with an optional note); the citizen is notified if they opted in."""
    normalized = case_code(state, code)
    casework.change_status(
        session,
        code=normalized,
        to_status=body.status,
        note=(body.note or "").strip() or None,
        actor=member.name,
        skip_channels=state.settings.skip_channels,
    )
    session.flush()
    session.expire_all()
    return _detail(casework.get_case(session, code=normalized))


@router.post("/cases/{code}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED)
def add_note(code: str, body: NoteIn, member: Officer, session: DbSession, state: State) -> NoteOut:
    """An internal note on the case; the status does not change and the citizen is not told."""
    text = body.text.strip()
    if not text:
        raise HTTPException(422, detail="La nota está vacía.")
    note = casework.add_note(session, code=case_code(state, code), text=text, actor=member.name)
    return NoteOut(id=note.id, created_at=note.created_at, author=note.author, text=note.text)


@router.get("/audit", response_model=AuditPageOut)
def audit_log(
    _: Admin,
    session: DbSession,
    state: State,
    case: Annotated[str | None, Query(description="Código de trámite")] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> AuditPageOut:
    """The audit log, newest first (admins only)."""
    query = select(AuditEvent, Case.code).outerjoin(Case, Case.id == AuditEvent.case_id)
    count = select(func.count()).select_from(AuditEvent).outerjoin(Case, Case.id == AuditEvent.case_id)
    if case:
        code = case_code(state, case)
        query, count = query.where(Case.code == code), count.where(Case.code == code)
    if action:
        query, count = query.where(AuditEvent.action == action), count.where(AuditEvent.action == action)
    total = session.scalar(count) or 0
    rows = session.execute(query.order_by(AuditEvent.id.desc()).offset((page - 1) * page_size).limit(page_size)).all()
    return AuditPageOut(
        items=[
            AuditEventOut(id=e.id, at=e.at, actor=e.actor, action=e.action, case_code=code, details=e.details)
            for e, code in rows
        ],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(
    _: Admin,
    session: DbSession,
    state: State,
    case: str | None = None,
    state_: Annotated[str | None, Query(alias="state")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> list[NotificationOut]:
    """Queued, delivered and failed notifications, newest first (admins only)."""
    query = select(NotificationOutbox, Case.code).join(Case, Case.id == NotificationOutbox.case_id)
    if case:
        query = query.where(Case.code == case_code(state, case))
    if state_:
        query = query.where(NotificationOutbox.state == state_)
    rows = session.execute(query.order_by(NotificationOutbox.id.desc()).limit(limit)).all()
    return [_notification_out(n, code) for n, code in rows]


@router.post("/notifications/{notification_id}/retry", response_model=NotificationOut)
def retry_notification(
    notification_id: Annotated[int, Path(ge=1, le=2**31 - 1)], member: Admin, session: DbSession
) -> NotificationOut:
    """Puts a notification that gave up ("failed") back in the queue (admins only)."""
    now = datetime.now(timezone.utc)
    result = session.execute(
        update(NotificationOutbox)
        .where(NotificationOutbox.id == notification_id, NotificationOutbox.state == OutboxState.FAILED)
        .values(state=OutboxState.PENDING, next_attempt_at=now, attempts=0)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(
        select(NotificationOutbox, Case.code)
        .join(Case, Case.id == NotificationOutbox.case_id)
        .where(NotificationOutbox.id == notification_id)
    ).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No existe esa notificación.")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"Solo se reintentan notificaciones fallidas (esta está '{row[0].state}')."
        )
    n, code = row
    audit.record(session, actor=member.name, action="notification.retried", case_id=n.case_id, notification_id=n.id)
    session.flush()
    session.refresh(n)
    return _notification_out(n, code)


def _notification_out(n: NotificationOutbox, code: str) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        case_code=code,
        to_status=n.to_status,
        state=n.state,
        attempts=n.attempts,
        created_at=n.created_at,
        next_attempt_at=n.next_attempt_at,
        delivered_at=n.delivered_at,
        last_error=n.last_error,
    )
