"""Shared state and FastAPI dependencies of the backend's HTTP APIs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.auth import Role, StaffDirectory, StaffMember, bearer_token, service_token_ok
from backend.codes import normalize_code
from backend.interactions import InteractionStore
from backend.repository import SqlCaseRepository
from backend.settings import BackendSettings


@dataclass
class AppState:
    settings: BackendSettings
    engine: Engine
    sessions: sessionmaker[Session]
    repository: SqlCaseRepository
    staff: StaffDirectory
    interactions: InteractionStore


def app_state(request: Request) -> AppState:
    return request.app.state.ventanilla  # type: ignore[no-any-return]


State = Annotated[AppState, Depends(app_state)]


def db_session(state: State) -> Iterator[Session]:
    """A session whose transaction commits when the endpoint returns and rolls back on error.

    ``scope="function"`` makes the commit happen before the response is sent: a client
    that got 200 can rely on the change being stored (and seen by its next request).
    """
    with state.sessions.begin() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]

_UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    detail="Falta el token o no es válido. Envíe 'Authorization: Bearer <token>'.",
    headers={"WWW-Authenticate": "Bearer"},
)


def current_staff(state: State, authorization: Annotated[str | None, Header()] = None) -> StaffMember:
    member = state.staff.authenticate(bearer_token(authorization))
    if member is None:
        raise _UNAUTHORIZED
    return member


def require(role: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets in ``role`` (admins pass every check)."""

    def _check(member: Annotated[StaffMember, Depends(current_staff)]) -> StaffMember:
        if not member.can(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"Esta operación requiere el rol '{role.value}'.")
        return member

    return _check


Officer = Annotated[StaffMember, Depends(require(Role.OFFICER))]
Admin = Annotated[StaffMember, Depends(require(Role.ADMIN))]


def require_service(state: State, authorization: Annotated[str | None, Header()] = None) -> None:
    if not service_token_ok(state.settings.case_service_token, authorization):
        raise _UNAUTHORIZED


def case_code(state: AppState, raw: str) -> str:
    """The normalized code, or a clear 422 when the text is not a case code."""
    code = normalize_code(raw, state.settings.case_code_prefix)
    if code is None:
        raise HTTPException(
            422,
            detail=f"'{raw[:40]}' no es un código de trámite (forma {state.settings.case_code_prefix}-AAAA-NNNNNN).",
        )
    return code
