"""The review workflow: draft -> in_review -> published (or back to draft), restore, comments.

Every step takes the procedure's optimistic lock (``store.claim``), writes its audit
row in the same transaction and commits. A domain error rolls back first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.content import store
from backend.content.errors import ConflictError, InvalidTransition, SelfApprovalError, ValidationFailed
from backend.content.models import ContentComment, ContentProcedure, ContentVersion
from backend.content.rendering import canonical, content_hash
from backend.content.types import Comment, ProcedureContent, PublishResult
from backend.content.validation import validate
from backend.models import utcnow

STATUS_NAMES = {"draft": "borrador", "in_review": "en revisión", "published": "publicada", "superseded": "reemplazada"}


def _refuse(session: Session, error: Exception) -> None:
    session.rollback()
    raise error


def _working(session: Session, procedure: ContentProcedure, expected: str, doing: str) -> ContentVersion:
    working = store.version(session, procedure.working_version_id)
    if working is None or working.status != expected:
        status = STATUS_NAMES.get(working.status, working.status) if working else "sin cambios abiertos"
        _refuse(session, InvalidTransition(f"No se puede {doing}: el trámite está {status}."))
    return working  # type: ignore[return-value]


def _comment(
    session: Session, procedure_id: str, number: int | None, author: str, body: str, kind: str
) -> ContentComment:
    row = ContentComment(
        procedure_id=procedure_id, version_number=number, author=author, at=utcnow(), body=body, kind=kind
    )
    session.add(row)
    return row


def _validated(session: Session, procedure_id: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return canonical(validate(session, procedure_id=procedure_id, data=data))
    except ValidationFailed:
        session.rollback()
        raise


def _new_version(
    session: Session, procedure_id: str, data: dict[str, Any], actor: str, restored_from: int | None = None
) -> ContentVersion:
    now = utcnow()
    row = ContentVersion(
        procedure_id=procedure_id,
        number=store.next_number(session, procedure_id),
        status="draft",
        data=data,
        content_hash=content_hash(data),
        authors=[actor],
        created_at=now,
        updated_at=now,
        restored_from=restored_from,
    )
    session.add(row)
    session.flush()
    return row


def save_draft(
    session: Session, *, procedure_id: str, data: dict[str, Any], base_revision: int | None, actor: str
) -> ProcedureContent:
    if base_revision is None:
        existing = session.get(ContentProcedure, procedure_id)
        if existing is not None:
            _refuse(
                session,
                ConflictError(
                    f"Ya existe un trámite con el id '{procedure_id}'.",
                    current_revision=existing.revision,
                    current=store.current_data(session, existing),
                    refused=data,
                ),
            )
        clean = _validated(session, procedure_id, data)
        procedure = ContentProcedure(id=procedure_id, revision=1, created_at=utcnow(), updated_at=utcnow())
        session.add(procedure)
        session.flush()
        draft = _new_version(session, procedure_id, clean, actor)
        procedure.working_version_id = draft.id
        store.audit(
            session, actor=actor, action="created", procedure_id=procedure_id, after=clean, version=draft.number
        )
        session.commit()
        return store.content(procedure, draft)
    procedure = store.get_procedure(session, procedure_id)
    store.check_revision(session, procedure, base_revision, refused=data)
    working = store.version(session, procedure.working_version_id)
    if working is not None and working.status != "draft":
        _refuse(
            session, InvalidTransition("El cambio está en revisión: pida que lo devuelvan a borrador para editarlo.")
        )
    clean = _validated(session, procedure_id, data)
    store.claim(session, procedure, base_revision, refused=data)
    working = stage_draft(session, procedure, clean, actor)
    session.commit()
    return store.content(procedure, working)


def stage_draft(session: Session, procedure: ContentProcedure, clean: dict[str, Any], actor: str) -> ContentVersion:
    """Writes validated content into the open draft (or a new one) and audits it; no commit."""
    working = store.version(session, procedure.working_version_id)
    if working is None:
        published = store.version(session, procedure.published_version_id)
        before = dict(published.data) if published else None
        working = _new_version(session, procedure.id, clean, actor)
        procedure.working_version_id = working.id
    else:
        before = dict(working.data)
        working.data = clean
        working.content_hash = content_hash(clean)
        working.authors = sorted(set(working.authors or []) | {actor})
        working.updated_at = utcnow()
    store.audit(
        session,
        actor=actor,
        action="draft_saved",
        procedure_id=procedure.id,
        before=before,
        after=clean,
        version=working.number,
    )
    return working


def _step(
    session: Session,
    *,
    procedure_id: str,
    base_revision: int,
    actor: str,
    comment: str,
    source: str,
    target: str,
    doing: str,
    validate_again: bool = False,
) -> ProcedureContent:
    """One status change of the open version (``source`` -> ``target``), its comment and audit row."""
    procedure = store.get_procedure(session, procedure_id)
    store.check_revision(session, procedure, base_revision)
    working = _working(session, procedure, source, doing)
    if validate_again:
        _validated(session, procedure_id, dict(working.data))  # links or review date may have gone bad since
    store.claim(session, procedure, base_revision)
    working.status = target
    if target == "in_review":
        working.submitted_by = actor
    else:
        working.reviewed_by = actor
    working.updated_at = utcnow()
    kind = "submitted" if target == "in_review" else "returned"
    _comment(session, procedure_id, working.number, actor, comment.strip(), kind)
    store.audit(
        session,
        actor=actor,
        action=kind,
        procedure_id=procedure_id,
        before={"status": source},
        after={"status": target},
        version=working.number,
        comment=comment.strip(),
    )
    session.commit()
    return store.content(procedure, working)


def submit(session: Session, *, procedure_id: str, base_revision: int, actor: str, comment: str) -> ProcedureContent:
    return _step(
        session,
        procedure_id=procedure_id,
        base_revision=base_revision,
        actor=actor,
        comment=comment,
        source="draft",
        target="in_review",
        doing="enviar a revisión",
        validate_again=True,
    )


def return_to_draft(
    session: Session, *, procedure_id: str, base_revision: int, actor: str, comment: str
) -> ProcedureContent:
    if not comment.strip():
        session.rollback()
        raise ValidationFailed([("comment", "Escriba qué hay que corregir antes de devolver el cambio.")])
    return _step(
        session,
        procedure_id=procedure_id,
        base_revision=base_revision,
        actor=actor,
        comment=comment,
        source="in_review",
        target="draft",
        doing="devolver a borrador",
    )


def publish(
    session: Session, *, procedure_id: str, base_revision: int, actor: str, publisher: Any, comment: str
) -> PublishResult:
    """Approves and publishes; the index is prepared before the commit and switched after it.

    The publisher's lock serialises publishes (also across processes) so that each new
    index is built from every published change, including the one committed just before.
    """
    with publisher.lock():
        procedure = store.get_procedure(session, procedure_id)
        store.check_revision(session, procedure, base_revision)
        working = _working(session, procedure, "in_review", "publicar")
        if actor in (working.authors or []):
            _refuse(
                session,
                SelfApprovalError("No puede aprobar un cambio que usted mismo escribió: debe publicarlo otra persona."),
            )
        _validated(session, procedure_id, dict(working.data))
        store.claim(session, procedure, base_revision)
        store.install_published(session, procedure, working, actor, action="published")
        procedure.working_version_id = None
        _comment(session, procedure_id, working.number, actor, comment.strip(), "published")
        session.flush()
        try:
            prepared = publisher.prepare(store.published_data(session))
        except BaseException:
            session.rollback()  # the index could not be built: nothing is published
            raise
        try:
            session.commit()
        except BaseException:
            publisher.discard(prepared)
            raise
        publisher.activate(prepared)
    return PublishResult(
        procedure_id=procedure_id,
        version_number=working.number,
        index_version=prepared.version,
        embedded_passages=prepared.embedded,
        reused_passages=prepared.reused,
        seconds=prepared.seconds,
    )


def restore(session: Session, *, procedure_id: str, number: int, base_revision: int, actor: str) -> ProcedureContent:
    procedure = store.get_procedure(session, procedure_id)
    store.check_revision(session, procedure, base_revision)
    if procedure.working_version_id is not None:
        _refuse(
            session,
            InvalidTransition("Ya hay un cambio abierto en este trámite: publíquelo o descártelo antes de restaurar."),
        )
    old = store.version_by_number(session, procedure_id, number)
    store.claim(session, procedure, base_revision)
    draft = _new_version(session, procedure_id, dict(old.data), actor, restored_from=number)
    procedure.working_version_id = draft.id
    published = store.version(session, procedure.published_version_id)
    _comment(session, procedure_id, draft.number, actor, f"Restaurada desde la versión {number}.", "restored")
    store.audit(
        session,
        actor=actor,
        action="restored",
        procedure_id=procedure_id,
        before=dict(published.data) if published else None,
        after=dict(old.data),
        version=draft.number,
        restored_from=number,
    )
    session.commit()
    return store.content(procedure, draft)


def discard(session: Session, *, procedure_id: str, base_revision: int, actor: str) -> None:
    procedure = store.get_procedure(session, procedure_id)
    store.check_revision(session, procedure, base_revision)
    working = _working(session, procedure, "draft", "descartar")
    store.claim(session, procedure, base_revision)
    before = dict(working.data)
    procedure.working_version_id = None
    session.delete(working)
    if procedure.published_version_id is None:
        session.delete(procedure)
    store.audit(session, actor=actor, action="discarded", procedure_id=procedure_id, before=before, after=None)
    session.commit()


def add_comment(session: Session, *, procedure_id: str, actor: str, body: str) -> Comment:
    if not body.strip():
        session.rollback()
        raise ValidationFailed([("body", "El comentario está vacío.")])
    procedure = store.get_procedure(session, procedure_id)
    working = store.version(session, procedure.working_version_id)
    row = _comment(session, procedure_id, working.number if working else None, actor, body.strip(), "comment")
    store.audit(session, actor=actor, action="commented", procedure_id=procedure_id, after={"comment": body.strip()})
    session.commit()
    return Comment(row.id, procedure_id, row.version_number, actor, row.at, row.body, row.kind)
