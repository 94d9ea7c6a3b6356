"""Account operations (console and ``backend users`` CLI): create, roles, passwords, disable, login.

Every change is audited in the same transaction (``backend.audit``: who, what, before and
after; never a password or its hash). Functions flush but do not commit: the caller owns
the transaction, so a refused operation leaves nothing behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import audit
from backend.accounts import passwords, sessions, throttle
from backend.accounts.models import StaffUser, StaffUserRole
from backend.accounts.roles import Role

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


class AccountError(ValueError):
    """A refused account operation; ``field`` names the form field it is about, the message is Spanish."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _snapshot(user: StaffUser) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "active": user.active,
        "roles": sorted(user.roles),
    }


def normalize_username(raw: str) -> str:
    return raw.strip().lower()


def get_by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.username == normalize_username(username)))


def list_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def count_active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(func.distinct(StaffUser.id)))
            .join(StaffUserRole, StaffUserRole.user_id == StaffUser.id)
            .where(StaffUser.active.is_(True), StaffUserRole.role == Role.ADMIN.value)
        )
        or 0
    )


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: frozenset[Role],
    actor: str,
    min_length: int,
) -> StaffUser:
    name = normalize_username(username)
    if not USERNAME_PATTERN.match(name):
        raise AccountError(
            "El nombre de usuario lleva de 2 a 80 caracteres: letras minúsculas, números, punto, guion o guion bajo.",
            field="username",
        )
    if get_by_username(session, name) is not None:
        raise AccountError(f"Ya existe el usuario '{name}'.", field="username")
    shown = display_name.strip()[:120] or name
    if not roles:
        raise AccountError("Elija al menos un rol.", field="roles")
    try:
        passwords.check_policy(password, username=name, min_length=min_length)
    except passwords.PasswordRejected as exc:
        raise AccountError(str(exc), field="password") from None
    now = datetime.now(timezone.utc)
    user = StaffUser(
        username=name,
        display_name=shown,
        password_hash=passwords.hash_password(password),
        active=True,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
        role_rows=[StaffUserRole(role=r.value) for r in sorted(roles)],
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.created", target=name, before=None, after=_snapshot(user))
    return user


def set_roles(session: Session, *, user: StaffUser, roles: frozenset[Role], actor: str) -> None:
    if not roles:
        raise AccountError("Elija al menos un rol.", field="roles")
    before = _snapshot(user)
    if Role.ADMIN.value in user.roles and Role.ADMIN not in roles and user.active and count_active_admins(session) <= 1:
        raise AccountError(
            "No se puede quitar el rol de administrador a la última cuenta administradora.", field="roles"
        )
    user.role_rows = [StaffUserRole(role=r.value) for r in sorted(roles)]
    user.updated_at = datetime.now(timezone.utc)
    session.flush()
    audit.record(
        session, actor=actor, action="user.roles_changed", target=user.username, before=before, after=_snapshot(user)
    )


def set_active(session: Session, *, user: StaffUser, active: bool, actor: str) -> None:
    """Disables (ending every session at once) or re-enables an account."""
    before = _snapshot(user)
    if not active and Role.ADMIN.value in user.roles and user.active and count_active_admins(session) <= 1:
        raise AccountError("No se puede desactivar la última cuenta administradora.", field="active")
    user.active = active
    user.updated_at = datetime.now(timezone.utc)
    ended = sessions.end_all(session, user_id=user.id) if not active else 0
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.disabled" if not active else "user.enabled",
        target=user.username,
        before=before,
        after=_snapshot(user),
        sessions_ended=ended,
    )


def set_password(
    session: Session, *, user: StaffUser, new_password: str, actor: str, min_length: int, reason: str
) -> int:
    """Sets a new password and ends every session of the user; returns how many were ended.

    ``reason``: "changed" (the user), "reset" (an admin or the CLI). The caller starts a
    fresh session afterwards when the user changed their own password.
    """
    try:
        passwords.check_policy(new_password, username=user.username, min_length=min_length)
    except passwords.PasswordRejected as exc:
        raise AccountError(str(exc), field="new_password") from None
    now = datetime.now(timezone.utc)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = now
    user.updated_at = now
    ended = sessions.end_all(session, user_id=user.id)
    session.flush()
    audit.record(session, actor=actor, action=f"user.password_{reason}", target=user.username, sessions_ended=ended)
    return ended


@dataclass(frozen=True)
class LoginOutcome:
    user: StaffUser | None
    throttled: bool


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    hash_key: str,
    policy: throttle.ThrottlePolicy,
) -> LoginOutcome:
    """Checks a login; records the attempt (caller commits, also on failure).

    The same answer for an unknown user, a wrong password and a disabled account, and
    about the same time (a dummy hash is verified for unknown users).
    """
    subject = throttle.Subject.of(hash_key, username=username, address=address)
    if throttle.blocked(session, subject=subject, policy=policy):
        audit.record(session, actor="anónimo", action="login.throttled")
        return LoginOutcome(None, throttled=True)
    user = get_by_username(session, username)
    ok = passwords.verify_password(user.password_hash if user else passwords.dummy_hash(), password)
    ok = ok and user is not None and user.active
    throttle.record(session, subject=subject, succeeded=ok, policy=policy)
    if not ok or user is None:
        return LoginOutcome(None, throttled=False)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    audit.record(session, actor=user.username, action="login.succeeded")
    return LoginOutcome(user, throttled=False)
