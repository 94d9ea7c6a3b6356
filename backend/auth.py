"""Token authentication for the staff API and the internal case API.

Staff tokens come from ``VENTANILLA_STAFF_TOKENS`` ("token:role[:name],..."). Every
configured token is compared in constant time, and all of them are always compared,
so neither the answer nor its timing tells how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    ADMIN = "admin"


@dataclass(frozen=True)
class StaffMember:
    role: Role
    name: str  # shown in history and audit rows

    def can(self, needed: Role) -> bool:
        return self.role is Role.ADMIN or self.role is needed


@dataclass(frozen=True)
class _Entry:
    token: bytes
    member: StaffMember


class StaffTokenError(ValueError):
    """VENTANILLA_STAFF_TOKENS is malformed (the message never contains a token)."""


def parse_staff_tokens(spec: str) -> list[_Entry]:
    entries: list[_Entry] = []
    for position, item in enumerate((part.strip() for part in spec.split(",")), start=1):
        if not item:
            continue
        pieces = item.split(":")
        if len(pieces) not in (2, 3) or not pieces[0]:
            raise StaffTokenError(f"VENTANILLA_STAFF_TOKENS entry {position} is not 'token:role' or 'token:role:name'")
        token, role_text = pieces[0], pieces[1].strip().lower()
        try:
            role = Role(role_text)
        except ValueError:
            raise StaffTokenError(
                f"VENTANILLA_STAFF_TOKENS entry {position} has unknown role '{role_text}' (use officer or admin)"
            ) from None
        if len(token) < 16:
            raise StaffTokenError(f"VENTANILLA_STAFF_TOKENS entry {position}: tokens need at least 16 characters")
        # Without a name, a short fingerprint of the token tells staff members apart.
        name = (
            pieces[2].strip()
            if len(pieces) == 3 and pieces[2].strip()
            else (f"{role.value}-{hashlib.sha256(token.encode()).hexdigest()[:8]}")
        )
        entries.append(_Entry(token.encode(), StaffMember(role, name[:100])))
    return entries


class StaffDirectory:
    """Looks a bearer token up among the configured ones, in constant time."""

    def __init__(self, spec: str) -> None:
        self._entries = parse_staff_tokens(spec)

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, presented: str | None) -> StaffMember | None:
        candidate = (presented or "").encode()
        found: StaffMember | None = None
        for entry in self._entries:
            if hmac.compare_digest(entry.token, candidate):
                found = entry.member
        return found


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def service_token_ok(expected: str, authorization: str | None) -> bool:
    presented = bearer_token(authorization)
    return hmac.compare_digest(expected.encode(), (presented or "").encode()) and bool(presented)
