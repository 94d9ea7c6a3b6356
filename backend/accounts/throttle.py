"""Login throttling per account and per address, from the stored login attempts.

Both the user name and the address are stored as keyed hashes (no personal data in the
table); equality is all throttling needs. A blocked login is refused before the password
is even checked, so guessing goes no faster with the right password in the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend.accounts.models import LoginAttempt
from backend.hashing import keyed_hash


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta
    max_failures_account: int
    max_failures_address: int


@dataclass(frozen=True)
class Subject:
    """Who is trying: hashed user name and hashed address."""

    username: str
    address: str

    @classmethod
    def of(cls, key: str, *, username: str, address: str) -> Subject:
        return cls(
            username=keyed_hash(key, "login-user", username.strip().lower()),
            address=keyed_hash(key, "login-address", address),
        )


def blocked(session: Session, *, subject: Subject, policy: ThrottlePolicy, now: datetime | None = None) -> bool:
    """True when the account or the address has too many recent failures."""
    now = now or datetime.now(timezone.utc)
    since = now - policy.window
    failures = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
    )
    by_account = session.scalar(failures.where(LoginAttempt.username == subject.username)) or 0
    if by_account >= policy.max_failures_account:
        return True
    by_address = session.scalar(failures.where(LoginAttempt.address == subject.address)) or 0
    return by_address >= policy.max_failures_address


def record(
    session: Session, *, subject: Subject, succeeded: bool, policy: ThrottlePolicy, now: datetime | None = None
) -> None:
    """Stores the attempt; a success clears the account's failures; old rows are pruned."""
    now = now or datetime.now(timezone.utc)
    if succeeded:
        session.execute(delete(LoginAttempt).where(LoginAttempt.username == subject.username))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - 2 * policy.window))
    session.add(LoginAttempt(at=now, username=subject.username, address=subject.address, succeeded=succeeded))
