"""Reading and locking content rows; the conversions to the service's result types."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.audit import record
from backend.content.errors import ConflictError, NotFound
from backend.content.models import ContentProcedure, ContentVersion
from backend.content.types import ProcedureContent, VersionInfo
from backend.models import utcnow


def get_procedure(session: Session, procedure_id: str) -> ContentProcedure:
    procedure = session.get(ContentProcedure, procedure_id, populate_existing=True)
    if procedure is None:
        raise NotFound(f"No existe el trámite '{procedure_id}'.")
    return procedure


def version(session: Session, version_id: int | None) -> ContentVersion | None:
    return session.get(ContentVersion, version_id) if version_id is not None else None


def version_by_number(session: Session, procedure_id: str, number: int) -> ContentVersion:
    found = session.scalar(
        select(ContentVersion).where(ContentVersion.procedure_id == procedure_id, ContentVersion.number == number)
    )
    if found is None:
        raise NotFound(f"El trámite '{procedure_id}' no tiene una versión {number}.")
    return found


def next_number(session: Session, procedure_id: str) -> int:
    return (
        int(
            session.scalar(
                select(func.coalesce(func.max(ContentVersion.number), 0)).where(
                    ContentVersion.procedure_id == procedure_id
                )
            )
        )
        + 1
    )


def current_data(session: Session, procedure: ContentProcedure) -> dict[str, Any] | None:
    """The working copy's data if a change is open, else the published data."""
    shown = version(session, procedure.working_version_id) or version(session, procedure.published_version_id)
    return dict(shown.data) if shown else None


def live_data(session: Session) -> dict[str, dict[str, Any]]:
    """Every procedure's working-or-published data (for cross-procedure checks)."""
    rows = session.execute(
        select(ContentProcedure.id, ContentVersion.data).join(
            ContentVersion,
            ContentVersion.id
            == func.coalesce(ContentProcedure.working_version_id, ContentProcedure.published_version_id),
        )
    )
    return {pid: dict(data) for pid, data in rows}


def published_data(session: Session) -> dict[str, dict[str, Any]]:
    """Every published procedure's data, by id (what the index is built from)."""
    rows = session.execute(
        select(ContentProcedure.id, ContentVersion.data).join(
            ContentVersion, ContentVersion.id == ContentProcedure.published_version_id
        )
    )
    return {pid: dict(data) for pid, data in rows}


def claim(
    session: Session, procedure: ContentProcedure, base_revision: int, refused: dict[str, Any] | None = None
) -> None:
    """Optimistic lock: bumps the revision only if nobody changed the procedure since ``base_revision``.

    A conditional UPDATE, so two requests racing on any database cannot both win: the
    loser's UPDATE matches no row (PostgreSQL re-checks the condition after the winner
    commits; SQLite serialises writers). The loser gets ConflictError with both texts.
    """
    result = session.execute(
        update(ContentProcedure)
        .where(ContentProcedure.id == procedure.id, ContentProcedure.revision == base_revision)
        .values(revision=base_revision + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _conflict(session, procedure.id, refused)
    session.refresh(procedure)


def check_revision(
    session: Session, procedure: ContentProcedure, base_revision: int, refused: dict[str, Any] | None = None
) -> None:
    """Early, cheap form of ``claim`` (before expensive checks); ``claim`` still decides."""
    if procedure.revision != base_revision:
        raise _conflict(session, procedure.id, refused)


def _conflict(session: Session, procedure_id: str, refused: dict[str, Any] | None) -> ConflictError:
    """Rolls back and describes the conflict with the content saved meanwhile and the refused one."""
    session.rollback()
    fresh = get_procedure(session, procedure_id)
    return ConflictError(
        "Otra persona cambió este trámite mientras usted lo tenía abierto. Su texto no se perdió: "
        "revise la versión actual y vuelva a aplicar sus cambios.",
        current_revision=fresh.revision,
        current=current_data(session, fresh),
        refused=refused,
    )


def install_published(
    session: Session, procedure: ContentProcedure, row: ContentVersion, actor: str, *, action: str
) -> None:
    """Makes ``row`` the published version (the previous one becomes superseded) and audits it."""
    previous = version(session, procedure.published_version_id)
    if previous is not None:
        previous.status = "superseded"
    row.status = "published"
    row.reviewed_by = actor
    row.published_at = row.updated_at = utcnow()
    procedure.published_version_id = row.id
    audit(
        session,
        actor=actor,
        action=action,
        procedure_id=procedure.id,
        before=dict(previous.data) if previous else None,
        after=dict(row.data),
        version=row.number,
    )


def audit(
    session: Session, *, actor: str, action: str, procedure_id: str, before: Any = None, after: Any = None, **extra: Any
) -> None:
    """Every content change goes through here, in the transaction of the change."""
    record(
        session, actor=actor, action=f"content.{action}", procedure_id=procedure_id, before=before, after=after, **extra
    )


def info(v: ContentVersion) -> VersionInfo:
    return VersionInfo(
        version_id=v.id,
        procedure_id=v.procedure_id,
        number=v.number,
        status=v.status,
        authors=list(v.authors or []),
        created_at=v.created_at,
        updated_at=v.updated_at,
        submitted_by=v.submitted_by,
        reviewed_by=v.reviewed_by,
        published_at=v.published_at,
        restored_from=v.restored_from,
        content_hash=v.content_hash,
    )


def content(procedure: ContentProcedure, v: ContentVersion) -> ProcedureContent:
    return ProcedureContent(procedure_id=procedure.id, data=dict(v.data), version=info(v), revision=procedure.revision)
