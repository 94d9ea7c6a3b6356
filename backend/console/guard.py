"""Who may open which console page: the session user and the ``Allow`` dependency.

Every console route declares ``Allow(...)`` (or ``PUBLIC``) in its dependencies; the
permission-matrix test reads those declarations from the app's route table, so a new
route without one fails the test. Anonymous visitors are sent to the login page;
signed-in users without the role get 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from backend.accounts import sessions
from backend.accounts.models import StaffUser
from backend.accounts.roles import Role
from backend.console import csrf
from backend.deps import AppState, app_state

SESSION_COOKIE = "ventanilla_session"


class LoginRequired(Exception):
    """No live session: the handler redirects to the login page (htmx: HX-Redirect)."""


def console_db(state: Annotated[AppState, Depends(app_state)]) -> Iterator[Session]:
    """A plain session: account pages commit explicitly, the content service commits itself."""
    with state.sessions() as session:
        yield session


ConsoleDb = Annotated[Session, Depends(console_db, scope="function")]
ConsoleState = Annotated[AppState, Depends(app_state)]


def session_policy(state: AppState) -> sessions.SessionPolicy:
    return sessions.SessionPolicy(
        idle=timedelta(minutes=state.settings.console_idle_minutes),
        absolute=timedelta(hours=state.settings.console_absolute_hours),
    )


def optional_user(request: Request, state: ConsoleState, db: ConsoleDb) -> StaffUser | None:
    """The signed-in user, or None. Cached per request (FastAPI dependency cache)."""
    user = sessions.resolve(db, token=request.cookies.get(SESSION_COOKIE), policy=session_policy(state))
    db.commit()  # an expired session was deleted, or last_seen_at moved
    request.state.user = user
    return user


async def check_csrf(request: Request, state: ConsoleState) -> None:
    await csrf.verify(request, state.settings.console_secret, int(state.settings.console_absolute_hours * 3600))


@dataclass(frozen=True)
class Allow:
    """Lets in a signed-in user holding any of ``roles`` (no roles: any signed-in user)."""

    roles: frozenset[Role]

    def __call__(self, user: Annotated[StaffUser | None, Depends(optional_user)]) -> StaffUser:
        if user is None:
            raise LoginRequired()
        if self.roles and not (self.roles & {Role(r) for r in user.roles if r in Role._value2member_map_}):
            raise HTTPException(403, detail="Su cuenta no tiene permiso para esta página o acción.")
        return user

    def __hash__(self) -> int:  # FastAPI caches dependencies by callable
        return hash(self.roles)


def allow(*roles: Role) -> Allow:
    return Allow(frozenset(roles))


@dataclass(frozen=True)
class Public:
    """Marks a route open to anonymous visitors (login page, static files)."""

    def __call__(self) -> None:
        return None


PUBLIC = Public()

SIGNED_IN = allow()
CONTENT_READERS = allow(Role.EDITOR, Role.REVIEWER, Role.ADMIN, Role.CASE_OFFICER, Role.AGENT)
EDITORS = allow(Role.EDITOR)
REVIEWERS = allow(Role.REVIEWER)
EDITORS_OR_REVIEWERS = allow(Role.EDITOR, Role.REVIEWER)
ADMINS = allow(Role.ADMIN)

CurrentUser = Annotated[StaffUser, Depends(SIGNED_IN)]
