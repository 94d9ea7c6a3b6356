"""Case work pages (role "case officer"): the queue, its CSV export and one case's page.

A thin layer over ``backend.case_queue`` (what the queue shows) and ``backend.casework``
(what changes a case: each change writes its history, audit row and, for a status
change, the citizen's notification in the outbox, in one transaction). Opening a case
page shows the citizen's name and contact, so the view itself is audited too.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import audit, case_queue, casework
from backend.accounts.models import StaffUser, StaffUserRole
from backend.accounts.roles import Role
from backend.codes import normalize_code
from backend.console.guard import ConsoleDb, ConsoleState, allow
from backend.console.web import finish, redirect, render
from backend.models import Case
from backend.workflow import ALLOWED_TRANSITIONS, CITIZEN_LABEL, InvalidTransition, Status, expected_date

router = APIRouter()
PAGE_SIZE = 50
MAX_NOTE = 4000

CASE_OFFICERS = allow(Role.CASE_OFFICER)
Officer = Annotated[StaffUser, Depends(CASE_OFFICERS)]

SORT_LABELS = {
    case_queue.Sort.OLDEST: "Más antiguos primero",
    case_queue.Sort.NEWEST: "Más recientes primero",
    case_queue.Sort.LONGEST_IN_STATUS: "Más tiempo en su estado",
    case_queue.Sort.UPDATED: "Última novedad",
    case_queue.Sort.STATUS: "Estado",
    case_queue.Sort.PROCEDURE: "Trámite",
    case_queue.Sort.ASSIGNEE: "Persona asignada",
}
STATUS_LABELS = {s.value: CITIZEN_LABEL[s].capitalize() for s in Status}
CASE_MESSAGES = {
    "assigned": "Asignación guardada.",
    "noted": "Nota agregada.",
    "status": "Estado cambiado. Si la persona aceptó avisos, le llega el aviso por su canal.",
}


def _filters(
    status: str, procedure: str, assignee: str, min_age: str, overdue: str, closed: str, sort: str, me: str
) -> tuple[case_queue.QueueFilter, dict[str, str]]:
    """The queue filter from the query string; unknown values are ignored, never a 500."""
    wanted = Status(status) if status in Status._value2member_map_ else None
    age = int(min_age) if min_age.isdigit() and 0 < int(min_age) <= 3650 else None
    who = me if assignee == "me" else assignee[:120]
    order = case_queue.Sort(sort) if sort in case_queue.Sort._value2member_map_ else case_queue.Sort.OLDEST
    f = case_queue.QueueFilter(
        status=wanted,
        procedure_id=procedure[:80] or None,
        assignee=who or None,
        min_age_days=age,
        overdue_only=overdue == "1",
        include_closed=closed == "1",
        sort=order,
    )
    shown = {
        "status": wanted.value if wanted else "",
        "procedure": f.procedure_id or "",
        "assignee": assignee[:120],
        "min_age": str(age or ""),
        "overdue": "1" if f.overdue_only else "",
        "closed": "1" if f.include_closed else "",
        "sort": order.value,
    }
    return f, shown


def _officers(db: Session) -> list[StaffUser]:
    return list(
        db.scalars(
            select(StaffUser)
            .join(StaffUserRole, StaffUserRole.user_id == StaffUser.id)
            .where(StaffUserRole.role == Role.CASE_OFFICER.value, StaffUser.active.is_(True))
            .order_by(StaffUser.username)
        ).all()
    )


@router.get("/console/cases", response_class=HTMLResponse)
def queue(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    officer: Officer,
    status: Annotated[str, Query(max_length=40)] = "",
    procedure: Annotated[str, Query(max_length=80)] = "",
    assignee: Annotated[str, Query(max_length=120)] = "",
    min_age: Annotated[str, Query(max_length=5)] = "",
    overdue: Annotated[str, Query(max_length=1)] = "",
    closed: Annotated[str, Query(max_length=1)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    f, shown = _filters(status, procedure, assignee, min_age, overdue, closed, sort, officer.username)
    rows, total, overdue_total = case_queue.page(db, f, number=page, size=PAGE_SIZE)
    procedures = db.scalars(select(Case.procedure_id).distinct().order_by(Case.procedure_id)).all()
    return render(
        request,
        state,
        "cases.html",
        {
            "rows": rows,
            "total": total,
            "overdue_total": overdue_total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "filters": shown,
            "procedures": procedures,
            "officers": _officers(db),
            "sort_labels": {s.value: label for s, label in SORT_LABELS.items()},
            "status_labels": STATUS_LABELS,
            "query": request.url.query,
        },
    )


@router.get("/console/cases.csv")
def export_csv(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    officer: Officer,
    status: Annotated[str, Query(max_length=40)] = "",
    procedure: Annotated[str, Query(max_length=80)] = "",
    assignee: Annotated[str, Query(max_length=120)] = "",
    min_age: Annotated[str, Query(max_length=5)] = "",
    overdue: Annotated[str, Query(max_length=1)] = "",
    closed: Annotated[str, Query(max_length=1)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The filtered queue as CSV (no personal data: codes, procedures, statuses, dates, assignees)."""
    f, shown = _filters(status, procedure, assignee, min_age, overdue, closed, sort, officer.username)
    rows = case_queue.export_rows(db, f)
    audit.record(db, actor=officer.username, action="case.queue_exported", rows=len(rows), filters=shown)
    db.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    response = Response(
        content="\ufeff" + case_queue.to_csv(rows),  # the BOM makes spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="expedientes-{stamp}.csv"'},
    )
    finish(request, state, response)
    return response


def _code_or_404(state: ConsoleState, raw: str) -> str:
    code = normalize_code(raw, state.settings.case_code_prefix)
    if code is None:
        raise HTTPException(404, detail="No existe ese expediente.")
    return code


def _case_page(
    request: Request,
    state: ConsoleState,
    db: Session,
    officer: StaffUser,
    code: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        case = casework.get_case(db, code=code)
    except casework.CaseNotFound:
        raise HTTPException(404, detail="No existe ese expediente.") from None
    casework.record_view(db, case=case, actor=officer.username)
    db.commit()
    current = Status(case.status) if case.status in Status._value2member_map_ else None
    timeline: list[dict[str, Any]] = [
        {
            "at": h.changed_at,
            "who": h.changed_by,
            "kind": "status",
            "from": h.from_status,
            "to": h.to_status,
            "text": h.note,
        }
        for h in case.history
    ] + [{"at": n.created_at, "who": n.author, "kind": "note", "text": n.text} for n in case.notes]
    timeline.sort(key=lambda e: e["at"])
    now = datetime.now(timezone.utc)
    due = expected_date(current, case.status_since) if current else None
    return render(
        request,
        state,
        "case.html",
        {
            "case": case,
            "timeline": timeline,
            "next_statuses": sorted(ALLOWED_TRANSITIONS[current]) if current else [],
            "status_labels": STATUS_LABELS,
            "due": due,
            "overdue": due is not None and due < now.date(),
            "officers": _officers(db),
            "errors": errors or {},
            "form": form or {},
            "case_message": CASE_MESSAGES.get(request.query_params.get("done", "")),
            "notify_skipped": case.channel in state.settings.skip_channels,
        },
        status_code=status_code,
    )


@router.get("/console/cases/{code}", response_class=HTMLResponse)
def case_page(code: str, request: Request, state: ConsoleState, db: ConsoleDb, officer: Officer) -> Response:
    return _case_page(request, state, db, officer, _code_or_404(state, code))


def _done(code: str, what: str) -> Response:
    return redirect(f"/console/cases/{code}?done={what}")


@router.post("/console/cases/{code}/assign", response_class=HTMLResponse)
def assign(
    code: str,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    officer: Officer,
    assignee: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    normalized = _code_or_404(state, code)
    target: str | None = officer.username if assignee == "me" else (assignee.strip() or None)
    if target is not None and target not in {u.username for u in _officers(db)}:
        db.rollback()
        return _case_page(
            request,
            state,
            db,
            officer,
            normalized,
            errors={"assignee": "Elija una persona de la lista."},
            status_code=422,
        )
    try:
        casework.assign(db, code=normalized, assignee=target, actor=officer.username)
    except casework.CaseNotFound:
        raise HTTPException(404, detail="No existe ese expediente.") from None
    except casework.NotAssignable:
        db.rollback()
        return _case_page(
            request,
            state,
            db,
            officer,
            normalized,
            errors={"assignee": "Un expediente cerrado o con datos eliminados no se asigna."},
            status_code=409,
        )
    db.commit()
    return _done(normalized, "assigned")


@router.post("/console/cases/{code}/notes", response_class=HTMLResponse)
def add_note(
    code: str,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    officer: Officer,
    text: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
) -> Response:
    normalized = _code_or_404(state, code)
    clean = text.strip()
    error = "" if clean else "Escriba la nota."
    if len(clean) > MAX_NOTE:
        error = f"La nota tiene más de {MAX_NOTE} caracteres."
    if error:
        return _case_page(
            request, state, db, officer, normalized, errors={"note": error}, form={"note": text}, status_code=422
        )
    try:
        casework.add_note(db, code=normalized, text=clean, actor=officer.username)
    except casework.CaseNotFound:
        raise HTTPException(404, detail="No existe ese expediente.") from None
    db.commit()
    return _done(normalized, "noted")


@router.post("/console/cases/{code}/status", response_class=HTMLResponse)
def change_status(
    code: str,
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    officer: Officer,
    status: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
) -> Response:
    """Moves the case on with a note; the outbox row for the citizen is written in the same commit."""
    normalized = _code_or_404(state, code)
    clean = note.strip()
    form = {"status": status, "status_note": note}
    errors: dict[str, str] = {}
    if status not in Status._value2member_map_:
        errors["status"] = "Elija el nuevo estado."
    if not clean:
        errors["status_note"] = "Escriba una nota que explique el cambio."
    elif len(clean) > MAX_NOTE:
        errors["status_note"] = f"La nota tiene más de {MAX_NOTE} caracteres."
    if errors:
        return _case_page(request, state, db, officer, normalized, errors=errors, form=form, status_code=422)
    try:
        casework.change_status(
            db,
            code=normalized,
            to_status=status,
            note=clean,
            actor=officer.username,
            skip_channels=state.settings.skip_channels,
        )
    except casework.CaseNotFound:
        raise HTTPException(404, detail="No existe ese expediente.") from None
    except (InvalidTransition, casework.ConcurrentChange):
        db.rollback()
        message = (
            "Ese cambio ya no es posible: otra persona cambió el estado o el paso no está permitido. "
            "Revise el historial."
        )
        return _case_page(
            request, state, db, officer, normalized, errors={"status": message}, form=form, status_code=409
        )
    db.commit()
    return _done(normalized, "status")
