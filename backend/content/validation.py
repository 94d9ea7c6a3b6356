"""The console's content checks: exactly ``kb validate``'s, applied to one procedure in the database."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from backend.content.errors import ValidationFailed
from backend.content.store import live_data
from knowledge_base.content import Problem, check_procedure, related_problems
from knowledge_base.schema import Procedure
from knowledge_base.settings import SearchSettings


def validate(session: Session, *, procedure_id: str, data: dict[str, Any], today: date | None = None) -> Procedure:
    """Checks ``data`` alone and against the other procedures (links, shared source URL).

    Raises ValidationFailed with every problem as ``(field path, message)``.
    """
    if not isinstance(data, dict):
        raise ValidationFailed([("(archivo)", "debe ser un mapa con los campos del trámite")])
    settings = SearchSettings()
    name = f"{procedure_id}.yml"
    procedure, problems = check_procedure(
        name,
        data,
        expected_id=procedure_id,
        today=today or date.today(),
        stale_after_days=settings.stale_after_days,
    )
    others = {pid: d for pid, d in live_data(session).items() if pid != procedure_id}
    problems += related_problems(name, data, set(others) | {procedure_id})
    if procedure is not None:
        url = str(procedure.source_url)
        for pid, other in others.items():
            if other.get("source_url") == url:
                problems.append(Problem(name, "source_url", f"mismo enlace que {pid}.yml"))
    if problems or procedure is None:
        raise ValidationFailed([(p.field, p.message) for p in problems])
    return procedure
