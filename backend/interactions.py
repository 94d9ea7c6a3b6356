"""Storing feedback, ratings, suggestions and handoff requests without personal data.

The action server writes here through ``InteractionRepository`` (this SQL store, or
``backend.http_interactions`` when the case store is a service); the staff's analytics
and the agents' queue read from here. Two rules hold for every row:

- the channel user is stored only as ``interaction_sender_hash`` (a keyed hash with
  its own purpose: it cannot be joined with the case tables' ``sender_hash``);
- free text goes through ``backend.redaction.redact`` first.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from backend.codes import DEFAULT_PREFIX
from backend.hashing import keyed_hash
from backend.interaction_models import AnswerFeedback, HandoffRequest, HandoffState, Rating, Suggestion
from backend.redaction import MAX_TEXT, redact
from backend.suggestion_topics import TOPIC_LABELS, classify_topic
from backend.unanswered import store as unanswered
from backend.unanswered.store import Candidate

__all__ = [
    "MAX_SUMMARY",
    "MAX_TEXT",
    "TOPIC_LABELS",
    "Candidate",
    "HandoffView",
    "InteractionRepository",
    "InteractionStore",
    "classify_topic",
    "interaction_sender_hash",
    "redact",
]

MAX_SUMMARY = 6000


def interaction_sender_hash(key: str, sender_id: str) -> str:
    return keyed_hash(key, "interaction-sender", sender_id)


class InteractionRepository(Protocol):
    """What the action server writes: one implementation per case-store kind (SQL or HTTP).

    Each write validates its input and raises ``ValueError`` for what cannot be stored.
    """

    def record_answer_feedback(
        self, *, sender_id: str, channel: str, procedure_id: str | None, helpful: bool
    ) -> None: ...

    def record_rating(self, *, sender_id: str, channel: str, score: int | None, comment: str | None) -> None: ...

    def record_suggestion(self, *, sender_id: str, channel: str, text: str, topic: str | None = None) -> str: ...

    def open_handoff(self, *, sender_id: str, channel: str, during_office_hours: bool, summary: str) -> str: ...

    def leave_message(self, *, reference: str, sender_id: str, message: str) -> bool: ...

    def record_unanswered(
        self,
        *,
        sender_id: str,
        channel: str,
        reason: str,
        question: str,
        intent: str,
        intent_confidence: float | None,
        candidates: list[Candidate],
        secrets: list[str],
        embedding: list[float] | None = None,
        embedding_model: str = "",
    ) -> None:
        """A turn the bot did not answer well; ``question`` is masked (``secrets`` removed) before storage.

        ``embedding`` (optional) is the masked question's vector from the knowledge base's embedder
        ``embedding_model``: computed where the model is already loaded, it spares the inbox that work.
        """
        ...


@dataclass(frozen=True)
class HandoffView:
    reference: str
    state: str
    during_office_hours: bool
    channel: str
    sender_hash: str
    summary: str
    message: str | None
    created_at: datetime


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    return "ATN-" + "".join(secrets.choice(alphabet) for _ in range(6))


class InteractionStore:
    """Writes and reads the interaction tables. Every write is one short transaction."""

    def __init__(self, engine: Engine, *, hash_key: str, case_code_prefix: str = DEFAULT_PREFIX) -> None:
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._key = hash_key
        self._prefix = case_code_prefix

    def _redact(self, text: str, limit: int = MAX_TEXT) -> str:
        return redact(text, limit, case_code_prefix=self._prefix)

    def _sender(self, sender_id: str) -> str:
        return interaction_sender_hash(self._key, sender_id)

    def record_answer_feedback(self, *, sender_id: str, channel: str, procedure_id: str | None, helpful: bool) -> None:
        with self._sessions.begin() as session:
            session.add(
                AnswerFeedback(
                    created_at=_now(),
                    procedure_id=procedure_id[:80] if procedure_id else None,
                    helpful=helpful,
                    channel=channel[:40],
                    sender_hash=self._sender(sender_id),
                )
            )

    def record_rating(self, *, sender_id: str, channel: str, score: int | None, comment: str | None) -> None:
        if score is not None and not 1 <= score <= 5:
            raise ValueError("score must be between 1 and 5")
        cleaned = self._redact(comment) if comment and comment.strip() else None
        if score is None and not cleaned:
            raise ValueError("a rating needs a score or a comment")
        with self._sessions.begin() as session:
            session.add(
                Rating(
                    created_at=_now(),
                    score=score,
                    comment=cleaned,
                    channel=channel[:40],
                    sender_hash=self._sender(sender_id),
                )
            )

    def record_suggestion(self, *, sender_id: str, channel: str, text: str, topic: str | None = None) -> str:
        """Stores the suggestion and returns its topic (classified when not given)."""
        cleaned = self._redact(text)
        if not cleaned:
            raise ValueError("empty suggestion")
        chosen = topic if topic in TOPIC_LABELS else classify_topic(text)
        with self._sessions.begin() as session:
            session.add(
                Suggestion(
                    created_at=_now(),
                    topic=chosen,
                    text=cleaned,
                    channel=channel[:40],
                    sender_hash=self._sender(sender_id),
                )
            )
        return chosen

    def open_handoff(self, *, sender_id: str, channel: str, during_office_hours: bool, summary: str) -> str:
        """Creates a handoff request and returns its reference (given to the citizen)."""
        state = HandoffState.WAITING_AGENT if during_office_hours else HandoffState.NO_MESSAGE
        now = _now()
        with self._sessions.begin() as session:
            reference = _new_reference()
            while session.scalar(select(HandoffRequest.id).where(HandoffRequest.reference == reference)) is not None:
                reference = _new_reference()
            session.add(
                HandoffRequest(
                    reference=reference,
                    created_at=now,
                    updated_at=now,
                    state=state,
                    during_office_hours=during_office_hours,
                    channel=channel[:40],
                    sender_hash=self._sender(sender_id),
                    summary=self._redact(summary, MAX_SUMMARY),
                )
            )
        return reference

    def leave_message(self, *, reference: str, sender_id: str, message: str) -> bool:
        """Attaches the citizen's message to their own handoff request; False if there is none."""
        with self._sessions.begin() as session:
            request = session.scalar(
                select(HandoffRequest).where(
                    HandoffRequest.reference == reference, HandoffRequest.sender_hash == self._sender(sender_id)
                )
            )
            if request is None:
                return False
            request.message = self._redact(message)
            request.state = HandoffState.MESSAGE_LEFT
            request.updated_at = _now()
            return True

    def record_unanswered(
        self,
        *,
        sender_id: str,
        channel: str,
        reason: str,
        question: str,
        intent: str,
        intent_confidence: float | None,
        candidates: list[Candidate],
        secrets: list[str],
        embedding: list[float] | None = None,
        embedding_model: str = "",
    ) -> None:
        with self._sessions.begin() as session:
            unanswered.record(
                session,
                sender_hash=self._sender(sender_id),
                channel=channel,
                reason=reason,
                question=question,
                intent=intent,
                intent_confidence=intent_confidence,
                candidates=candidates,
                case_code_prefix=self._prefix,
                secrets=secrets,
                embedding=embedding,
                embedding_model=embedding_model,
            )

    def close_handoff(self, reference: str) -> bool:
        with self._sessions.begin() as session:
            request = session.scalar(select(HandoffRequest).where(HandoffRequest.reference == reference))
            if request is None:
                return False
            request.state = HandoffState.CLOSED
            request.updated_at = _now()
            return True

    def open_handoffs(self) -> list[HandoffView]:
        """The agents' queue: requests not closed, oldest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(HandoffRequest)
                .where(
                    HandoffRequest.state.in_(
                        [HandoffState.WAITING_AGENT, HandoffState.MESSAGE_LEFT, HandoffState.NO_MESSAGE]
                    )
                )
                .order_by(HandoffRequest.created_at, HandoffRequest.id)
            ).all()
            return [_view(row) for row in rows]

    def handoff(self, reference: str) -> HandoffView | None:
        with self._sessions() as session:
            row = session.scalar(select(HandoffRequest).where(HandoffRequest.reference == reference))
            return _view(row) if row is not None else None

    def find_conversation(self, reference: str, sender_ids: Iterable[str]) -> str | None:
        """Which of the given sender ids (e.g. from Rasa's tracker store) made this request."""
        view = self.handoff(reference)
        if view is None:
            return None
        return next((sid for sid in sender_ids if self._sender(sid) == view.sender_hash), None)


def _view(row: HandoffRequest) -> HandoffView:
    return HandoffView(
        reference=row.reference,
        state=row.state,
        during_office_hours=row.during_office_hours,
        channel=row.channel,
        sender_hash=row.sender_hash,
        summary=row.summary,
        message=row.message,
        created_at=row.created_at,
    )
