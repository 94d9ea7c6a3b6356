"""Recording unanswered turns, and the editors' reads and writes of them (SQL).

The action server records through ``InteractionRepository.record_unanswered`` (the SQL
``InteractionStore`` calls ``record`` here; the HTTP one goes through the internal
interaction API, which calls it too). The console reads open rows for the inbox,
marks a group's rows handled, and reviews intents.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from backend.unanswered.masking import mask_question
from backend.unanswered.models import Reason, Status, UnansweredQuestion

MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Candidate:
    procedure_id: str
    score: float


def clean_candidates(candidates: Iterable[Candidate | dict[str, Any]]) -> list[dict[str, Any]]:
    """At most five ``{"procedure_id", "score"}`` dicts, best first, ids and scores bounded."""
    rows: list[dict[str, Any]] = []
    for item in candidates:
        pid, score = (
            (item.procedure_id, item.score)
            if isinstance(item, Candidate)
            else (
                str(item.get("procedure_id", "")),
                float(item.get("score", 0.0)),
            )
        )
        if pid:
            rows.append({"procedure_id": pid[:80], "score": round(max(-1.0, min(1.0, score)), 4)})
    rows.sort(key=lambda r: -float(r["score"]))
    return rows[:MAX_CANDIDATES]


def record(
    session: Session,
    *,
    sender_hash: str,
    channel: str,
    reason: str,
    question: str,
    intent: str,
    intent_confidence: float | None,
    candidates: Sequence[Candidate | dict[str, Any]],
    case_code_prefix: str,
    secrets: Iterable[str] = (),
    embedding: Sequence[float] | None = None,
    embedding_model: str = "",
) -> None:
    """Adds one row (the caller commits). ValueError for an unknown reason or an empty question."""
    if reason not in Reason.ALL:
        raise ValueError("unknown reason")
    masked = mask_question(question, case_code_prefix=case_code_prefix, secrets=secrets)
    if not masked.strip():
        raise ValueError("empty question")
    confidence = None if intent_confidence is None else max(0.0, min(1.0, float(intent_confidence)))
    session.add(
        UnansweredQuestion(
            created_at=datetime.now(timezone.utc),
            reason=reason,
            question=masked,
            channel=channel[:40],
            sender_hash=sender_hash,
            intent=intent[:80],
            intent_confidence=confidence,
            candidates=clean_candidates(candidates),
            status=Status.OPEN,
            embedding=_vector_bytes(embedding) if embedding and embedding_model else None,
            embedding_model=embedding_model[:80] if embedding and embedding_model else None,
        )
    )


def _vector_bytes(values: Sequence[float]) -> bytes:
    """A unit float32 vector as stored (the grouping reads it back with ``numpy.frombuffer``)."""
    vector = np.asarray(values, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(vector).all() or norm == 0.0:
        raise ValueError("invalid embedding")
    return (vector / norm).astype(np.float32).tobytes()


def open_rows(session: Session) -> list[UnansweredQuestion]:
    """The inbox's rows: not handled, of a reason the inbox shows, oldest first."""
    return list(
        session.scalars(
            select(UnansweredQuestion)
            .where(UnansweredQuestion.status == Status.OPEN, UnansweredQuestion.reason.in_(Reason.INBOX))
            .order_by(UnansweredQuestion.id)
        ).all()
    )


@dataclass(frozen=True)
class OpenRow:
    """What the grouping reads of an open row: plain values, no ORM identity (10,000 load fast)."""

    id: int
    created_at: datetime
    reason: str
    question: str
    channel: str
    candidates: list[dict[str, Any]]
    embedding: bytes | None
    embedding_model: str | None


def open_snapshot(session: Session, *, after_id: int = 0) -> list[OpenRow]:
    """The inbox's rows (as ``open_rows``) with an id above ``after_id``, as plain values, oldest first."""
    q = UnansweredQuestion
    result = session.execute(
        select(q.id, q.created_at, q.reason, q.question, q.channel, q.candidates, q.embedding, q.embedding_model)
        .where(q.status == Status.OPEN, q.reason.in_(Reason.INBOX), q.id > after_id)
        .order_by(q.id)
    )
    return [OpenRow(*row) for row in result.all()]


def unembedded_open_ids(session: Session, key: str) -> list[int]:
    """Ids of the inbox's open rows without a vector of model ``key`` (usually none: the action server embeds)."""
    q = UnansweredQuestion
    missing = (q.embedding.is_(None)) | (q.embedding_model.is_(None)) | (q.embedding_model != key)
    return list(
        session.scalars(
            select(q.id).where(q.status == Status.OPEN, q.reason.in_(Reason.INBOX), missing).order_by(q.id)
        ).all()
    )


def rows_by_id(session: Session, ids: Sequence[int]) -> list[UnansweredQuestion]:
    return list(session.scalars(select(UnansweredQuestion).where(UnansweredQuestion.id.in_(list(ids)))).all())


def open_signature(session: Session) -> tuple[int, int]:
    """(count, highest id) of the open rows: the inbox's cache key (changes when rows arrive or leave)."""
    count, top = session.execute(
        select(func.count(UnansweredQuestion.id), func.max(UnansweredQuestion.id)).where(
            UnansweredQuestion.status == Status.OPEN, UnansweredQuestion.reason.in_(Reason.INBOX)
        )
    ).one()
    return int(count or 0), int(top or 0)


def mark_handled(session: Session, *, ids: Sequence[int], status: str, actor: str, target: str = "") -> int:
    """Takes the still-open rows among ``ids`` out of the inbox; returns how many (the caller commits)."""
    if status == Status.OPEN:
        raise ValueError("not a handled status")
    result = session.execute(
        update(UnansweredQuestion)
        .where(UnansweredQuestion.id.in_(list(ids)), UnansweredQuestion.status == Status.OPEN)
        .values(
            status=status, handled_by=actor[:80], handled_at=datetime.now(timezone.utc), handled_target=target[:200]
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def questions_of(session: Session, ids: Sequence[int]) -> list[str]:
    """The open rows' masked questions among ``ids``, distinct, in id order."""
    rows = session.scalars(
        select(UnansweredQuestion.question)
        .where(UnansweredQuestion.id.in_(list(ids)), UnansweredQuestion.status == Status.OPEN)
        .order_by(UnansweredQuestion.id)
    ).all()
    return list(dict.fromkeys(rows))


def low_confidence(
    session: Session, *, threshold: float, limit: int = 200, reviewed: bool = False
) -> list[UnansweredQuestion]:
    """Turns whose intent was predicted below ``threshold``, newest first (reviewed or not)."""
    reviewed_clause = (
        UnansweredQuestion.intent_reviewed_at.is_not(None)
        if reviewed
        else UnansweredQuestion.intent_reviewed_at.is_(None)
    )
    return list(
        session.scalars(
            select(UnansweredQuestion)
            .where(
                UnansweredQuestion.intent_confidence.is_not(None),
                UnansweredQuestion.intent_confidence < threshold,
                reviewed_clause,
            )
            .order_by(UnansweredQuestion.id.desc())
            .limit(limit)
        ).all()
    )


def review_intent(session: Session, *, row_id: int, intent: str, actor: str) -> UnansweredQuestion | None:
    """Stores the editor's intent for one turn (confirming = the predicted one); None if no such row."""
    row = session.get(UnansweredQuestion, row_id)
    if row is None:
        return None
    row.corrected_intent = intent[:80]
    row.intent_reviewed_by = actor[:80]
    row.intent_reviewed_at = datetime.now(timezone.utc)
    return row


def reviewed_examples(session: Session) -> list[tuple[str, str]]:
    """(intent, masked question) of every reviewed turn, intent then id order: the NLU export."""
    rows = session.execute(
        select(UnansweredQuestion.corrected_intent, UnansweredQuestion.question)
        .where(UnansweredQuestion.corrected_intent.is_not(None))
        .order_by(UnansweredQuestion.corrected_intent, UnansweredQuestion.id)
    ).all()
    return [(str(intent), str(question)) for intent, question in rows]


def forget_older_than(session: Session, *, older_than: datetime, dry_run: bool = False) -> int:
    """Deletes every row recorded before ``older_than`` (open, handled or reviewed); returns how many.

    The retention rule of ``ventanilla-retention``: a row keeps what a citizen typed (masked,
    but masking cannot catch everything, a name for one), so it lives no longer than the
    conversation it came from. The caller commits.
    """
    where = UnansweredQuestion.created_at < older_than
    if dry_run:
        return int(session.scalar(select(func.count(UnansweredQuestion.id)).where(where)) or 0)
    result = session.execute(delete(UnansweredQuestion).where(where).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def of_senders(session: Session, sender_hashes: Collection[str]) -> list[dict[str, Any]]:
    """A citizen's rows (by interaction sender hashes) as plain JSON-able data: the privacy export."""
    if not sender_hashes:
        return []
    q = UnansweredQuestion
    rows = session.scalars(select(q).where(q.sender_hash.in_(list(sender_hashes))).order_by(q.id)).all()
    return [
        {
            "fecha": row.created_at.isoformat(),
            "motivo": row.reason,
            "pregunta_con_datos_ocultados": row.question,
            "canal": row.channel,
            "estado": row.status,
        }
        for row in rows
    ]


def forget_senders(session: Session, sender_hashes: Collection[str]) -> int:
    """Deletes a citizen's rows (what they typed, masked, stays nowhere); returns how many. The caller commits."""
    if not sender_hashes:
        return 0
    q = UnansweredQuestion
    result = session.execute(
        delete(q).where(q.sender_hash.in_(list(sender_hashes))).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
