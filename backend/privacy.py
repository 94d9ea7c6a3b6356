"""A citizen's rights over their data: export it, erase it; and the retention rule.

Erasing (or retaining past the deadline) *anonymizes* a case: the personal columns
are cleared, staff notes and history notes (free text that may name the citizen)
are removed, consent records and queued notifications go, and what remains
(procedure, status, channel, dates, the status steps) is anonymous statistics.
Each anonymization is audited without any personal data. The citizen's analytics
conversations (found through the channel ids of their cases) are exported with the cases
and unlinked from them on erasure (``backend.analytics.forget``); the questions they asked
that the bot did not answer well (``unanswered_questions``, keyed by the interaction
sender hash of the same channel ids) are exported and deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from backend import audit, hashing
from backend.analytics import forget as analytics
from backend.interactions import interaction_sender_hash
from backend.models import Case, CaseNote, CaseStatusChange, ConsentRecord, NotificationOutbox, OutboxState
from backend.unanswered import store as unanswered
from backend.workflow import Status


def cases_of_document(session: Session, *, hash_key: str, document_number: str) -> list[Case]:
    """Every case opened with this document number (found by its keyed hash)."""
    doc_hash = hashing.document_hash(hash_key, document_number)
    return list(
        session.scalars(
            select(Case)
            .where(Case.document_hash == doc_hash)
            .order_by(Case.created_at, Case.id)
            .options(selectinload(Case.history), selectinload(Case.notes), selectinload(Case.consents))
        ).all()
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_case(session: Session, case: Case) -> dict[str, Any]:
    """Everything we hold about the citizen in one case, as plain JSON-able data."""
    outbox = session.scalars(
        select(NotificationOutbox).where(NotificationOutbox.case_id == case.id).order_by(NotificationOutbox.id)
    ).all()
    return {
        "codigo": case.code,
        "tramite": case.procedure_id,
        "estado": case.status,
        "canal": case.channel,
        "identificador_en_el_canal": case.sender_id,
        "nombre": case.full_name,
        "contacto": case.contact,
        "acepta_notificaciones": case.notify_opt_in,
        "creado": _iso(case.created_at),
        "actualizado": _iso(case.updated_at),
        "cerrado": _iso(case.closed_at),
        "historial": [
            {"fecha": _iso(h.changed_at), "de": h.from_status, "a": h.to_status, "por": h.changed_by, "nota": h.note}
            for h in case.history
        ],
        "notas": [{"fecha": _iso(n.created_at), "autor": n.author, "texto": n.text} for n in case.notes],
        "consentimientos": [
            {
                "finalidad": c.purpose,
                "version_aviso": c.notice_version,
                "otorgado": c.granted,
                "fecha": _iso(c.given_at),
                "canal": c.channel,
            }
            for c in case.consents
        ],
        "notificaciones": [
            {
                "estado_notificado": o.to_status,
                "entrega": o.state,
                "intentos": o.attempts,
                "entregada": _iso(o.delivered_at),
            }
            for o in outbox
        ],
        "nota_sobre_el_documento": (
            "El número de documento no se guarda: solo un código derivado (hash con clave) que permite verificarlo."
        ),
    }


def export_citizen(session: Session, *, hash_key: str, document_number: str, actor: str) -> dict[str, Any]:
    cases = cases_of_document(session, hash_key=hash_key, document_number=document_number)
    for case in cases:
        audit.record(session, actor=actor, action="citizen.exported", case_id=case.id)
    hashes = analytics.analytics_hashes(hash_key, (case.sender_id for case in cases))
    return {
        "generado": datetime.now(timezone.utc).isoformat(),
        "tramites": [export_case(session, case) for case in cases],
        "estadisticas_del_asistente": analytics.export_rows(session, hashes),
        "preguntas_sin_respuesta": unanswered.of_senders(session, _unanswered_hashes(hash_key, cases)),
    }


def _unanswered_hashes(hash_key: str, cases: list[Case]) -> set[str]:
    """The unanswered rows' sender hashes of these cases' channel ids (``interaction_sender_hash``)."""
    return {interaction_sender_hash(hash_key, case.sender_id) for case in cases if case.sender_id}


def anonymize_case(session: Session, case: Case, *, actor: str, reason: str, now: datetime) -> None:
    """Removes the personal data of one case; keeps its anonymous statistics."""
    session.execute(delete(CaseNote).where(CaseNote.case_id == case.id))
    session.execute(delete(ConsentRecord).where(ConsentRecord.case_id == case.id))
    session.execute(update(CaseStatusChange).where(CaseStatusChange.case_id == case.id).values(note=None))
    session.execute(
        update(NotificationOutbox)
        .where(
            NotificationOutbox.case_id == case.id,
            NotificationOutbox.state.in_([OutboxState.PENDING, OutboxState.IN_PROGRESS, OutboxState.FAILED]),
        )
        .values(state=OutboxState.CANCELLED, last_error="datos personales eliminados", claim_token=None)
    )
    session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(
            full_name=None,
            contact=None,
            document_hash=None,
            verification_hash=None,
            sender_hash=None,
            sender_id=None,
            notify_opt_in=False,
            # The key was derived from the document and the channel id: replace it.
            idempotency_key=f"anon-{uuid.uuid4().hex}",
            anonymized_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    audit.record(session, actor=actor, action="case.anonymized", case_id=case.id, reason=reason)


def erase_citizen(session: Session, *, hash_key: str, document_number: str, actor: str) -> list[str]:
    """Anonymizes every case of this document number and unlinks their analytics; returns their codes."""
    now = datetime.now(timezone.utc)
    cases = cases_of_document(session, hash_key=hash_key, document_number=document_number)
    # Before the cases lose their channel ids: they are how the analytics rows are found.
    analytics.unlink(session, analytics.analytics_hashes(hash_key, (case.sender_id for case in cases)))
    forgotten = unanswered.forget_senders(session, _unanswered_hashes(hash_key, cases))
    if forgotten:
        audit.record(session, actor=actor, action="unanswered.erased", questions=forgotten)
    for case in cases:
        anonymize_case(session, case, actor=actor, reason="solicitud del ciudadano", now=now)
    return [case.code for case in cases]


def expired_cases(session: Session, *, days: int, now: datetime) -> list[Case]:
    """Closed cases, not yet anonymized, closed more than ``days`` days ago."""
    cutoff = now - timedelta(days=days)
    return list(
        session.scalars(
            select(Case)
            .where(Case.status == Status.CERRADO.value, Case.anonymized_at.is_(None), Case.closed_at < cutoff)
            .order_by(Case.id)
        ).all()
    )


def apply_retention(
    session: Session, *, days: int, actor: str, now: datetime | None = None, dry_run: bool = False
) -> list[str]:
    """Anonymizes closed cases past the retention period; returns their codes."""
    if days < 0:
        raise ValueError("retention days must be >= 0")
    now = now or datetime.now(timezone.utc)
    cases = expired_cases(session, days=days, now=now)
    if not dry_run:
        for case in cases:
            anonymize_case(session, case, actor=actor, reason=f"retención de {days} días", now=now)
    return [case.code for case in cases]
