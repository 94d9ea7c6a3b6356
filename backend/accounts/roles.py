"""The console's roles. One account may hold several; no role includes another.

Separation of duties is deliberate: an admin manages accounts and reads the audit log
but does not edit or publish content unless the account also holds editor/reviewer.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    EDITOR = "editor"
    REVIEWER = "reviewer"
    CASE_OFFICER = "case_officer"
    AGENT = "agent"
    ADMIN = "admin"


LABELS: dict[Role, str] = {
    Role.EDITOR: "Editor/a de contenidos",
    Role.REVIEWER: "Revisor/a de contenidos",
    Role.CASE_OFFICER: "Responsable de trámites",
    Role.AGENT: "Agente de atención",
    Role.ADMIN: "Administrador/a",
}


class UnknownRole(ValueError):
    pass


def parse_roles(values: list[str] | tuple[str, ...]) -> frozenset[Role]:
    """Role names (case-insensitive, "case-officer" accepted) to roles; UnknownRole names the bad one."""
    roles: set[Role] = set()
    for raw in values:
        name = raw.strip().lower().replace("-", "_")
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            raise UnknownRole(f"Rol desconocido: '{raw[:30]}'. Roles: {', '.join(r.value for r in Role)}.") from None
    return frozenset(roles)
