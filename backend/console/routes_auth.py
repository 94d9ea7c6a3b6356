"""Console pages for signing in and out, the landing page and the user's own account."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.accounts import service as accounts
from backend.accounts import sessions
from backend.accounts.models import StaffUser
from backend.accounts.passwords import verify_password
from backend.accounts.throttle import ThrottlePolicy
from backend.console import dashboard
from backend.console.guard import PUBLIC, SESSION_COOKIE, SIGNED_IN, ConsoleDb, ConsoleState, optional_user
from backend.console.web import cookie_secure, finish, redirect, render
from backend.deps import AppState

router = APIRouter()

LOGIN_FAILED = "Usuario o contraseña incorrectos."
THROTTLED = "Hubo demasiados intentos fallidos. Espere {minutes} minutos y vuelva a intentar."


def _safe_next(value: str) -> str:
    """Only console paths of this site (no open redirect)."""
    if value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


def _throttle_policy(state: AppState) -> ThrottlePolicy:
    s = state.settings
    return ThrottlePolicy(
        window=timedelta(minutes=s.login_window_minutes),
        max_failures_account=s.login_max_failures_account,
        max_failures_address=s.login_max_failures_address,
    )


def _start_session(request: Request, state: AppState, db: ConsoleDb, user: StaffUser, response: Response) -> None:
    token = sessions.start(db, user=user)
    db.commit()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, state),
        max_age=int(state.settings.console_absolute_hours * 3600),
    )


@router.get("/console/login", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def login_page(
    request: Request, state: ConsoleState, user: Annotated[StaffUser | None, Depends(optional_user)], next: str = ""
) -> Response:
    if user is not None:
        return redirect(_safe_next(next))
    return render(request, state, "login.html", {"next_url": _safe_next(next), "username": "", "error": None})


@router.post("/console/login", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def login(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    outcome = accounts.authenticate(
        db,
        username=username,
        password=password,
        address=request.client.host if request.client else "desconocida",
        hash_key=state.settings.case_hash_key,
        policy=_throttle_policy(state),
    )
    db.commit()  # the attempt is stored whatever the outcome
    if outcome.user is None:
        error = (
            THROTTLED.format(minutes=int(state.settings.login_window_minutes)) if outcome.throttled else LOGIN_FAILED
        )
        context = {"next_url": _safe_next(next), "username": username[:80], "error": error}
        return render(request, state, "login.html", context, status_code=429 if outcome.throttled else 401)
    response = redirect(_safe_next(next))
    _start_session(request, state, db, outcome.user, response)
    finish(request, state, response)
    return response


@router.post("/console/logout", dependencies=[Depends(SIGNED_IN)])
def logout(request: Request, state: ConsoleState, db: ConsoleDb) -> Response:
    sessions.end(db, token=request.cookies.get(SESSION_COOKIE))
    db.commit()
    response = RedirectResponse("/console/login?ok=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/console", response_class=HTMLResponse)
def home(
    request: Request, state: ConsoleState, db: ConsoleDb, user: Annotated[StaffUser, Depends(SIGNED_IN)]
) -> Response:
    """The landing page: for content staff, what needs attention."""
    return render(request, state, "home.html", dashboard.attention(db, user))


@router.get("/console/account", response_class=HTMLResponse)
def account_page(request: Request, state: ConsoleState, user: Annotated[StaffUser, Depends(SIGNED_IN)]) -> Response:
    return render(request, state, "account.html", {"errors": {}, "min_length": state.settings.password_min_length})


@router.post("/console/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    state: ConsoleState,
    db: ConsoleDb,
    user: Annotated[StaffUser, Depends(SIGNED_IN)],
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Changes the password and logs out everywhere; this browser gets a fresh session."""
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current_password):
        errors["current_password"] = "La contraseña actual no es correcta."  # noqa: S105 - a message
    else:
        try:
            accounts.set_password(
                db,
                user=user,
                new_password=new_password,
                actor=user.username,
                min_length=state.settings.password_min_length,
                reason="changed",
            )
        except accounts.AccountError as exc:
            db.rollback()
            errors[exc.field or "new_password"] = str(exc)
    if errors:
        context = {"errors": errors, "min_length": state.settings.password_min_length}
        return render(request, state, "account.html", context, status_code=422)
    response = redirect("/console/account", ok="password_changed")
    _start_session(request, state, db, user, response)
    finish(request, state, response)
    return response
