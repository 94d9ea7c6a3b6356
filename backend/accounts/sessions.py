"""Server-side console sessions with idle and absolute expiry.

The cookie holds a random token (``secrets.token_urlsafe``); the database holds only its
SHA-256, so reading the table does not give anyone a live session. Ending every session
of a user (password change, account disabled) is one DELETE.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.accounts.models import StaffSession, StaffUser

# last_seen_at is written at most this often, not on every request.
_TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, *, user: StaffUser, now: datetime | None = None) -> str:
    """Creates a session for ``user`` and returns the token for the cookie (caller commits)."""
    now = now or datetime.now(timezone.utc)
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_digest(token), user_id=user.id, created_at=now, last_seen_at=now))
    return token


def resolve(
    session: Session, *, token: str | None, policy: SessionPolicy, now: datetime | None = None
) -> StaffUser | None:
    """The active user of a live session, or None (an expired session is deleted; caller commits)."""
    if not token or len(token) > 200:
        return None
    now = now or datetime.now(timezone.utc)
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    stored: StaffSession = row[0]
    user: StaffUser = row[1]
    expired = now - stored.last_seen_at > policy.idle or now - stored.created_at > policy.absolute
    if expired or not user.active:
        session.delete(stored)
        return None
    if now - stored.last_seen_at > _TOUCH_EVERY:
        stored.last_seen_at = now
    return user


def end(session: Session, *, token: str | None) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def end_all(session: Session, *, user_id: int) -> int:
    """Ends every session of the user ("log out everywhere"); returns how many."""
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
