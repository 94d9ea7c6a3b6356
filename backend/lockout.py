"""Lockout after failed verifications, kept in the case store (not in the conversation).

A citizen proves who they are with the last 4 characters of their document. Three
wrong guesses used to lock one *conversation*; a new conversation got three more, so
a 4-character verification could be walked through in hours. Failures are now
counted in the ``verification_attempts`` table, per case code (whoever asks) and per
channel user, in sliding windows:

* a case code: 5 failures in 15 minutes, or 10 in 24 hours, lock it;
* a channel user: 3 failures in 15 minutes lock them.

Unknown codes count like real ones, so a lock does not reveal whether a code exists.
While locked even the right verification is refused (:class:`VerificationLocked`).
Checks and inserts are separate statements: a burst of concurrent guesses can
overshoot a limit by the number running at once, which the channels' rate limits
keep small.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend import hashing
from backend.models import VerificationAttempt

CODE_RULES: tuple[tuple[timedelta, int], ...] = ((timedelta(minutes=15), 5), (timedelta(hours=24), 10))
SENDER_RULES: tuple[tuple[timedelta, int], ...] = ((timedelta(minutes=15), 3),)
LONGEST_WINDOW = timedelta(hours=24)


class VerificationLocked(Exception):
    """Too many failed verifications for this case code or channel user; try after ``retry_after`` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"verification locked for {retry_after:.0f} s")
        self.retry_after = max(1.0, retry_after)


def _keys(hash_key: str, code: str | None, sender_id: str | None) -> list[tuple[str, str, tuple]]:  # type: ignore[type-arg]
    keys = []
    if code:
        keys.append(("code", hashing.keyed_hash(hash_key, "attempt-code", code.strip().upper()), CODE_RULES))
    if sender_id:
        keys.append(("sender", hashing.keyed_hash(hash_key, "attempt-sender", sender_id), SENDER_RULES))
    return keys


def check(session: Session, hash_key: str, *, code: str | None = None, sender_id: str | None = None) -> None:
    """Raises VerificationLocked when the code or the sender is locked now."""
    now = datetime.now(timezone.utc)
    wait = 0.0
    for _scope, key, rules in _keys(hash_key, code, sender_id):
        for window, limit in rules:
            recent = session.scalars(
                select(VerificationAttempt.attempted_at)
                .where(VerificationAttempt.key_hash == key, VerificationAttempt.attempted_at >= now - window)
                .order_by(VerificationAttempt.attempted_at.desc())
                .limit(limit)
            ).all()
            if len(recent) >= limit:
                wait = max(wait, (recent[-1] + window - now).total_seconds())
    if wait > 0:
        raise VerificationLocked(wait)


def record_failure(session: Session, hash_key: str, *, code: str | None = None, sender_id: str | None = None) -> None:
    """Counts one failed verification (in the caller's transaction) and drops expired rows."""
    now = datetime.now(timezone.utc)
    session.execute(delete(VerificationAttempt).where(VerificationAttempt.attempted_at < now - LONGEST_WINDOW))
    for scope, key, _rules in _keys(hash_key, code, sender_id):
        session.add(VerificationAttempt(scope=scope, key_hash=key, attempted_at=now))
