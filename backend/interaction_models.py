"""Tables of what citizens tell us about the service (conversation issue).

Answer feedback, ratings, suggestions and requests to talk to a person are kept for
the staff (analytics, the agents' queue) WITHOUT personal data: the channel user
is stored only as a keyed hash (its own purpose, so it cannot be joined with the
case tables), and free text is stored only after ``backend.redaction.redact``
removed e-mails, phone numbers and document numbers.

Registered on ``backend.models.Base`` so the Alembic migrations own the schema
(``backend/migrations/versions/0002_interactions.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models import Base, utcnow


class AnswerFeedback(Base):
    """The citizen's "¿Le sirvió esta respuesta?" for one knowledge-base answer."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    procedure_id: Mapped[str | None] = mapped_column(String(80), index=True, nullable=True)
    helpful: Mapped[bool] = mapped_column()
    channel: Mapped[str] = mapped_column(String(40), default="")
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)


class Rating(Base):
    """A 1-5 rating of the help received, and/or a short comment about it."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str] = mapped_column(String(40), default="")
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)


class Suggestion(Base):
    """A citizen's idea to improve a public service, with the topic it is about."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(40), default="")
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)


class HandoffState:
    """States of a request to talk to a person; plain strings, like the outbox states."""

    WAITING_AGENT = "waiting_agent"  # during office hours: the bot is paused
    MESSAGE_LEFT = "message_left"  # outside office hours: the citizen left a message
    NO_MESSAGE = "no_message"  # outside office hours: the citizen did not leave one
    TAKEN = "taken"  # an agent is talking with the citizen in the console
    CLOSED = "closed"
    # An agent took it and it stayed idle past Rasa's session window: Rasa resumed the bot by
    # itself (backend.livechat.upkeep marks it; the console says so).
    RETURNED = "returned"


class HandoffRequest(Base):
    """A request to talk to a person, with a summary of the conversation for the agent.

    ``reference`` is the short number the citizen is given; ``sender_hash`` lets the
    agents' tool find the paused conversation in Rasa's tracker store (hash each
    sender id there with ``backend.interactions.interaction_sender_hash``).
    """

    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(20), index=True)
    during_office_hours: Mapped[bool] = mapped_column()
    channel: Mapped[str] = mapped_column(String(40), default="")
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    summary: Mapped[str] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The agent who took the conversation in the console, and when (live chat).
    taken_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(nullable=True)
