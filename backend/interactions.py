"""Storing feedback, ratings, suggestions and handoff requests without personal data.

The action server writes here (``actions.support``); the staff's analytics and the
agents' queue read from here. Two rules hold for every row:

- the channel user is stored only as ``interaction_sender_hash`` (a keyed hash with
  its own purpose: it cannot be joined with the case tables' ``sender_hash``);
- free text goes through ``redact`` first: e-mail addresses, phone numbers and
  document numbers are replaced by placeholders. Names cannot be recognised
  reliably in free text (spaCy's small Spanish model has weak NER), so the bot asks
  for names only inside the case form, whose answers never reach these tables.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

import textnorm
from backend.hashing import keyed_hash
from backend.interaction_models import AnswerFeedback, HandoffRequest, HandoffState, Rating, Suggestion
from textnorm.patterns import EMAIL_IN_TEXT_RE

MAX_TEXT = 2000
MAX_SUMMARY = 6000

# Case codes (EXP-2026-000123, exp 2026 123...) are not personal data and the agent needs them.
_CASE_CODE_RE = re.compile(r"\bEXP[\s._/-]?(?:19|20)\d{2}[\s._/-]?\d{1,6}\b", re.IGNORECASE)
# Digits with the separators of phone and document numbers ("+54 9 11 5555-1234",
# "30.123.456", "12.345.678-K"), possibly with a short letter prefix or a check letter.
_NUMBERISH_RE = re.compile(r"(?<![\w@])\+?(?:[A-Za-z]{1,3}-?)?\(?\d[\d\s.\-/()]*\d(?:-?[A-Za-z])?(?![\w@])")
# Long letter+digit tokens (CURP, NIE, passport numbers).
_ALNUM_TOKEN_RE = re.compile(r"\b[A-Za-z0-9]{6,}\b")


def redact(text: str, limit: int = MAX_TEXT) -> str:
    """The text with e-mails, phone numbers and document numbers replaced; trimmed to ``limit``."""
    codes: list[str] = []

    def keep_code(match: re.Match[str]) -> str:
        codes.append(match.group(0))
        return f"\x00{len(codes) - 1}\x00"

    value = textnorm.nfc(text)
    value = EMAIL_IN_TEXT_RE.sub("[correo]", value)
    value = _CASE_CODE_RE.sub(keep_code, value)

    def numberish(match: re.Match[str]) -> str:
        chunk = match.group(0)
        if sum(ch.isdigit() for ch in chunk) < 5:
            return chunk
        trailing = chunk[len(chunk.rstrip(" ")) :]
        return "[número]" + trailing

    value = _NUMBERISH_RE.sub(numberish, value)
    value = _ALNUM_TOKEN_RE.sub(
        lambda m: "[número]" if sum(c.isdigit() for c in m.group(0)) >= 4 else m.group(0), value
    )
    value = re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], value)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def interaction_sender_hash(key: str, sender_id: str) -> str:
    return keyed_hash(key, "interaction-sender", sender_id)


# --- suggestion topics ----------------------------------------------------------------
# Topic -> stems looked for in the accent-free, lower-cased text. The first topic with
# the most matches wins; "otros" when nothing matches.
TOPICS: dict[str, tuple[str, ...]] = {
    "transporte": (
        "colectivo",
        "micro",
        "bus",
        "omnibus",
        "transporte",
        "subte",
        "tren",
        "parada",
        "frecuencia",
        "linea ",
    ),
    "transito": (
        "semaforo",
        "transito",
        "velocidad",
        "estacionar",
        "estacionamiento",
        "senaliz",
        "ciclovia",
        "bicis",
        "bicicleta",
        "calle",
        "esquina",
    ),
    "alumbrado": ("luz", "luces", "luminaria", "ilumin", "alumbrado", "farol"),
    "limpieza": ("basura", "tacho", "contenedor", "recicla", "residuo", "limpieza", "barrido", "reciclaje"),
    "espacios_verdes": ("plaza", "parque", "arbol", "verde", "huerta", "bancos", "juegos", "bebedero", "fuente"),
    "seguridad": ("seguridad", "camara", "policia", "robo", "patrull"),
    "salud": ("salud", "hospital", "guardia", "vacuna", "medic", "sala de primeros"),
    "educacion": ("escuela", "educacion", "taller", "curso", "biblioteca", "jardin"),
    "cultura_deporte": (
        "cultura",
        "cine",
        "concierto",
        "festival",
        "musica",
        "deporte",
        "pileta",
        "feria",
        "recital",
        "teatro",
    ),
    "atencion_tramites": (
        "tramite",
        "turno",
        "horario",
        "atencion",
        "oficina",
        "sabado",
        "ventanilla",
        "fila",
        "pago",
        "tarjeta",
        "efectivo",
        "mercado pago",
    ),
    "servicios_digitales": (
        "web",
        "pagina",
        "app",
        "online",
        "internet",
        "wifi",
        "whatsapp",
        "digital",
        "asistente",
        "chat",
        "mensaje",
        "sms",
        "videollamada",
    ),
    "accesibilidad": ("rampa", "silla", "ruedas", "accesib", "inclusiv", "discapacidad", "ciego", "sordo"),
}
OTHER_TOPIC = "otros"
TOPIC_LABELS = {
    "transporte": "Transporte público",
    "transito": "Tránsito y calles",
    "alumbrado": "Alumbrado",
    "limpieza": "Limpieza y residuos",
    "espacios_verdes": "Plazas y espacios verdes",
    "seguridad": "Seguridad",
    "salud": "Salud",
    "educacion": "Educación",
    "cultura_deporte": "Cultura y deporte",
    "atencion_tramites": "Atención y trámites",
    "servicios_digitales": "Servicios digitales",
    "accesibilidad": "Accesibilidad",
    OTHER_TOPIC: "Otros temas",
}


def classify_topic(text: str) -> str:
    """The topic of a suggestion, by keywords (deterministic and explainable to staff)."""
    plain = f" {textnorm.plain(text)} "
    best, best_hits = OTHER_TOPIC, 0
    for topic, stems in TOPICS.items():
        hits = sum(1 for stem in stems if stem in plain)
        if hits > best_hits:
            best, best_hits = topic, hits
    return best


# --- the store ----------------------------------------------------------------------------
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

    def __init__(self, engine: Engine, *, hash_key: str) -> None:
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._key = hash_key

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
        cleaned = redact(comment) if comment and comment.strip() else None
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
        cleaned = redact(text)
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
                    summary=redact(summary, MAX_SUMMARY),
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
            request.message = redact(message)
            request.state = HandoffState.MESSAGE_LEFT
            request.updated_at = _now()
            return True

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
