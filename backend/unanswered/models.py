"""The table of turns the bot did not answer well (``unanswered_questions``).

One row per turn where the bot abstained, fell back, heard "no me sirvió" or a 1-2
rating, or was unsure of the intent. ``question`` is stored only after
``backend.unanswered.masking.mask_question``; the channel user only as the interaction
sender hash. Editors handle rows in groups (``status`` leaves "open"); intent reviews
(``corrected_intent``) are independent of that.

Registered on ``backend.models.Base`` so the Alembic migrations own the schema
(``backend/migrations/versions/0006_unanswered.py``; the sender hash index in ``0009_inbox_gaps.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models import Base, utcnow


class Reason:
    """Why a turn was recorded; plain strings like the other state columns."""

    ABSTAINED = "abstained"  # the knowledge base said "no sé"
    FALLBACK = "fallback"  # the NLU fell back (nlu_fallback)
    NOT_HELPFUL = "not_helpful"  # "no me sirvió" after an answer
    LOW_RATING = "low_rating"  # a 1-2 rating
    LOW_CONFIDENCE = "low_confidence"  # answered, but the intent was a guess

    ALL = (ABSTAINED, FALLBACK, NOT_HELPFUL, LOW_RATING, LOW_CONFIDENCE)
    # What the inbox groups: the bot failed the citizen. LOW_CONFIDENCE rows only feed the intent review.
    INBOX = (ABSTAINED, FALLBACK, NOT_HELPFUL, LOW_RATING)


class Status:
    OPEN = "open"
    PARAPHRASED = "paraphrased"
    FAQ_DRAFT = "faq_draft"
    OUT_OF_SCOPE = "out_of_scope"
    DISMISSED = "dismissed"


class UnansweredQuestion(Base):
    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(String(20), index=True)
    question: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(40), default="")
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)  # privacy export and erasure
    intent: Mapped[str] = mapped_column(String(80), default="")
    intent_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # [{"procedure_id": ..., "score": ...}], best first
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=Status.OPEN, index=True)
    handled_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    handled_target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    corrected_intent: Mapped[str | None] = mapped_column(String(80), nullable=True)
    intent_reviewed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    intent_reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The question's embedding, computed once by the grouping with ``embedding_model``.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    embedding_model: Mapped[str | None] = mapped_column(String(80), nullable=True)
