"""Request and response bodies of the internal interaction API (action server -> backend).

The store redacts and trims every text itself; the limits here only bound a request's size.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_ID = Field(min_length=1, max_length=255)
_CHANNEL = Field(min_length=1, max_length=200)
_TEXT = 20_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender_id: str = _ID


class AnswerFeedbackIn(_In):
    channel: str = _CHANNEL
    procedure_id: str | None = Field(default=None, max_length=200)
    helpful: bool


class RatingIn(_In):
    channel: str = _CHANNEL
    score: int | None = None
    comment: str | None = Field(default=None, max_length=_TEXT)


class SuggestionIn(_In):
    channel: str = _CHANNEL
    text: str = Field(max_length=_TEXT)
    topic: str | None = Field(default=None, max_length=80)


class SuggestionOut(BaseModel):
    topic: str


class HandoffIn(_In):
    channel: str = _CHANNEL
    during_office_hours: bool
    summary: str = Field(max_length=4 * _TEXT)


class HandoffOut(BaseModel):
    reference: str


class HandoffMessageIn(_In):
    reference: str = Field(min_length=1, max_length=40)
    message: str = Field(max_length=_TEXT)


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    procedure_id: str = Field(min_length=1, max_length=200)
    score: float = Field(ge=-1.0, le=1.0)


class UnansweredIn(_In):
    """Already masked by the sender (the form's values never leave the action server); masked again here."""

    channel: str = _CHANNEL
    reason: str = Field(min_length=1, max_length=40)
    question: str = Field(min_length=1, max_length=_TEXT)
    intent: str = Field(default="", max_length=200)
    intent_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    candidates: list[CandidateIn] = Field(default_factory=list, max_length=20)
    embedding: list[float] | None = Field(default=None, min_length=8, max_length=4096)
    embedding_model: str = Field(default="", max_length=80)
