"""Admin pages: staff accounts (create, roles, disable, reset password) and the audit log."""

from __future__ import annotations

import json
from datetime import datetime, time, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Text, cast, func, select

from backend.accounts import service as accounts
from backend.accounts.models import StaffUser
from backend.accounts.roles import Role, UnknownRole, parse_roles
from backend.console.guard import ADMINS, ConsoleDb, ConsoleState
from backend.console.web import redirect, render
from backend.models import AuditEvent

router = APIRouter()
AUDIT_PAGE_SIZE = 50

Admin = Annotated[StaffUser, Depends(ADMINS)]


def _user_or_404(db: ConsoleDb, username: str) -> StaffUser:
    user = accounts.get_by_username(db, username)
    if user is None:
        raise HTTPException(404, detail="No existe ese usuario.")
    return user


def _users_page(request: Request, state: ConsoleState, db: ConsoleDb, **context: object) -> Response:
    values: dict[str, object] = {"users": accounts.list_users(db), "errors": {}, "form": {}, "all_roles": list(Role)}
    values.update(context)
    return render(request, state, "users.html", values, status_code=422 if values["errors"] else 200)


@router.get("/console/users", response_class=HTMLResponse)
def users(request: Request, state: ConsoleState, db: ConsoleDb, admin: Admin) -> Response:
    return _users_page(request, state, db, min_length=state.settings.password_min_length)


@router.post("/console/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    admin: Admin,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    roles: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
) -> Response:
    form = {"username": username, "display_name": display_name, "roles": roles}
    try:
        accounts.create_user(
            db,
            username=username,
            display_name=display_name,
            password=password,
            roles=parse_roles(roles),
            actor=admin.username,
            min_length=state.settings.password_min_length,
        )
        db.commit()
    except (accounts.AccountError, UnknownRole) as exc:
        db.rollback()
        field = getattr(exc, "field", "") or "roles"
        return _users_page(
            request, state, db, errors={field: str(exc)}, form=form, min_length=state.settings.password_min_length
        )
    return redirect("/console/users", ok="user_created")


@router.get("/console/users/{username}", response_class=HTMLResponse)
def user_detail(request: Request, state: ConsoleState, db: ConsoleDb, admin: Admin, username: str) -> Response:
    target = _user_or_404(db, username)
    context = {
        "target": target,
        "errors": {},
        "all_roles": list(Role),
        "min_length": state.settings.password_min_length,
    }
    return render(request, state, "user.html", context)


def _user_form_error(
    request: Request, state: ConsoleState, db: ConsoleDb, target: StaffUser, exc: Exception
) -> Response:
    db.rollback()
    db.refresh(target)
    field = getattr(exc, "field", "") or "roles"
    context = {
        "target": target,
        "errors": {field: str(exc)},
        "all_roles": list(Role),
        "min_length": state.settings.password_min_length,
    }
    return render(request, state, "user.html", context, status_code=422)


@router.post("/console/users/{username}/roles", response_class=HTMLResponse)
def change_roles(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    admin: Admin,
    username: str,
    roles: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    target = _user_or_404(db, username)
    try:
        accounts.set_roles(db, user=target, roles=parse_roles(roles), actor=admin.username)
        db.commit()
    except (accounts.AccountError, UnknownRole) as exc:
        return _user_form_error(request, state, db, target, exc)
    return redirect(f"/console/users/{target.username}", ok="user_updated")


@router.post("/console/users/{username}/active", response_class=HTMLResponse)
def change_active(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    admin: Admin,
    username: str,
    active: Annotated[str, Form()] = "",
) -> Response:
    target = _user_or_404(db, username)
    try:
        accounts.set_active(db, user=target, active=active == "1", actor=admin.username)
        db.commit()
    except accounts.AccountError as exc:
        return _user_form_error(request, state, db, target, exc)
    return redirect(f"/console/users/{target.username}", ok="user_updated")


@router.post("/console/users/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    admin: Admin,
    username: str,
    new_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    target = _user_or_404(db, username)
    try:
        accounts.set_password(
            db,
            user=target,
            new_password=new_password,
            actor=admin.username,
            min_length=state.settings.password_min_length,
            reason="reset",
        )
        db.commit()
    except accounts.AccountError as exc:
        return _user_form_error(request, state, db, target, exc)
    return redirect(f"/console/users/{target.username}", ok="password_reset")


def _day(value: str, *, end: bool) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date() if value else None
    except ValueError:
        return None
    if day is None:
        return None
    moment = datetime.combine(day, time.max if end else time.min)
    return moment.replace(tzinfo=timezone.utc)


@router.get("/console/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    admin: Admin,
    actor: Annotated[str, Query(max_length=120)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    target: Annotated[str, Query(max_length=120)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    """The audit log, newest first, filtered by who, what (prefix, e.g. "user." or "content."),
    the object (user name or procedure id) and dates (UTC days)."""
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor == actor.strip())
    if action:
        query = query.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if target:
        # The object lives in details (target for accounts, procedure_id for content).
        like = f"%{json.dumps(target.strip())[1:-1]}%"
        query = query.where(cast(AuditEvent.details, Text).like(like))
    low, high = _day(date_from, end=False), _day(date_to, end=True)
    if low:
        query = query.where(AuditEvent.at >= low)
    if high:
        query = query.where(AuditEvent.at <= high)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = list(
        db.scalars(query.order_by(AuditEvent.id.desc()).offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE))
    )
    actions = list(db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    context = {
        "events": [
            (e, json.dumps(e.details, ensure_ascii=False, indent=1, sort_keys=True, default=str)) for e in events
        ],
        "filters": {"actor": actor, "action": action, "target": target, "from": date_from, "to": date_to},
        "actions": actions,
        "page": page,
        "pages": max(1, -(-total // AUDIT_PAGE_SIZE)),
        "total": total,
        "date_error": (date_from and not low) or (date_to and not high),
    }
    return render(request, state, "audit.html", context)
