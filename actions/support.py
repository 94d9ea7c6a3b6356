"""Never leave a citizen stuck: a person (or a message for one), feedback, ratings, ideas.

- ``action_human_handoff``: during office hours the conversation is marked for an
  agent and the bot pauses (Rasa's ``ConversationPaused``: Rasa keeps logging the
  citizen's messages but predicts nothing). Outside office hours the citizen is told
  when someone will answer and may leave a message. Either way a summary of the
  conversation (without personal data) is stored for the agent.

  How an agent takes over and gives the conversation back: the handoff request
  (``backend.interactions.InteractionStore.open_handoffs``) carries the reference the
  citizen was given and a keyed hash of the sender; ``find_conversation`` matches it
  against the sender ids in Rasa's tracker store. The agent answers on the channel,
  then resumes the bot with Rasa's HTTP API (``rasa run --enable-api``)::

      POST /conversations/<sender_id>/tracker/events
      [{"event": "resume"}, {"event": "slot", "name": "handoff_mode", "value": null},
       {"event": "action", "name": "action_listen"}]

  (``resume_conversation`` below does exactly that.) A paused conversation also
  resumes by itself when its session expires (``session_expiration_time``, 60 min).
- ``action_save_kb_feedback``: the answer to "¿Le sirvió esta respuesta?".
- ``action_save_feedback``: a 1-5 rating (buttons or words: "5 estrellas", "le doy un 4").
- ``validate_suggestion_form`` / ``action_save_suggestion``: ideas, stored with a topic.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import urllib.request
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import textnorm
from actions.office_hours import SupportSettings, describe_opening
from actions.services import get_services
from backend.interactions import TOPIC_LABELS, InteractionStore, redact

logger = logging.getLogger(__name__)

# Slots whose answers are personal data: never copied into a summary.
PERSONAL_SLOTS = frozenset(
    {"full_name", "document_number", "contact", "verification", "list_verification", "handoff_message"}
)
SUMMARY_MESSAGES = 8

_lock = threading.Lock()
_store: InteractionStore | None = None
_settings: SupportSettings | None = None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


clock: Callable[[], datetime] = utcnow


def get_interactions() -> InteractionStore:
    """The interaction store on the case database, created on first use."""
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                from backend.db import create_schema, make_engine

                settings = get_services().settings
                engine = make_engine(settings.effective_database_url, pool_size=2, max_overflow=3)
                create_schema(engine)
                _store = InteractionStore(engine, hash_key=settings.case_hash_key)
    return _store


def set_interactions(store: InteractionStore | None) -> None:
    global _store
    _store = store


def get_support_settings() -> SupportSettings:
    """The office hours validated at start-up (``ActionSettings`` is a ``SupportSettings``)."""
    global _settings
    if _settings is None:
        _settings = get_services().settings
    return _settings


def set_support_settings(settings: SupportSettings | None) -> None:
    global _settings
    _settings = settings


def _channel(tracker: Tracker) -> str:
    return (tracker.get_latest_input_channel() or "desconocido")[:40]


def _intent(event_or_message: dict[str, Any]) -> str:
    parse = event_or_message.get("parse_data", event_or_message)
    return str((parse.get("intent") or {}).get("name") or "")


# --- conversation summary for the agent -------------------------------------------------------
def conversation_summary(tracker: Tracker, *, reason: str, titles: dict[str, str]) -> str:
    """What an agent needs to pick the conversation up, without personal data.

    Answers given inside forms to personal questions (name, document, contact,
    verification) are replaced by a placeholder; every other message is redacted.
    """
    requested: str | None = None
    messages: list[str] = []
    procedures: list[str] = []
    case_codes: list[str] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "requested_slot":
                requested = value
            elif (
                name in ("last_procedure", "procedure")
                and isinstance(value, str)
                and value in titles
                and value not in procedures
            ):
                procedures.append(value)
            elif (
                name == "case_code"
                and isinstance(value, str)
                and value
                and value not in case_codes
                and _was_created(tracker, value)
            ):
                case_codes.append(value)
        elif kind == "active_loop" and not event.get("name"):
            requested = None
        elif kind == "user":
            text = str(event.get("text") or "")
            intent = _intent(event)
            if requested in PERSONAL_SLOTS:
                shown = "[dato personal del formulario]"
            elif text.startswith("/"):
                shown = "[tocó un botón]"
            else:
                shown = redact(text, 300)
            messages.append(f"- ({intent or 'sin intención'}) {shown}")
    lines = [f"Motivo: {reason}", f"Canal: {_channel(tracker)}"]
    if procedures:
        lines.append("Trámites consultados: " + ", ".join(f"{titles[p]} ({p})" for p in procedures))
    abstentions = int(float(tracker.get_slot("kb_abstain_count") or 0))
    if abstentions:
        lines.append(f"Preguntas sin respuesta segura seguidas: {abstentions}")
    if case_codes:
        lines.append("Trámites iniciados en esta conversación: " + ", ".join(case_codes))
    lines.append("Últimos mensajes del ciudadano:")
    lines.extend(messages[-SUMMARY_MESSAGES:] or ["- (ninguno)"])
    return "\n".join(lines)


def _was_created(tracker: Tracker, code: str) -> bool:
    """A case code the bot announced (action_submit_case), not one the citizen typed."""
    return any(e.get("event") == "bot" and code in str(e.get("text") or "") for e in tracker.events)


def _reason(tracker: Tracker) -> str:
    if float(tracker.get_slot("kb_abstain_count") or 0) >= 2:
        return "el asistente no encontró respuesta y ofreció una persona"
    return "el ciudadano pidió hablar con una persona"


# --- human handoff ---------------------------------------------------------------------------------
class ActionHumanHandoff(Action):
    def name(self) -> str:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            hours = get_support_settings().hours()
            now = clock()
            live = hours.is_open(now)
            summary = conversation_summary(tracker, reason=_reason(tracker), titles=get_services().titles)
            reference = get_interactions().open_handoff(
                sender_id=tracker.sender_id, channel=_channel(tracker), during_office_hours=live, summary=summary
            )
        except Exception:  # noqa: BLE001 - the citizen still needs a way forward
            logger.exception("handoff could not be registered")
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        slots: list[EventType] = [SlotSet("handoff_reference", reference), SlotSet("kb_abstain_count", 0.0)]
        if live:
            dispatcher.utter_message(response="utter_handoff_live", reference=reference)
            logger.info("handoff live channel=%s", _channel(tracker))
            return [*slots, SlotSet("handoff_mode", "live"), ConversationPaused()]
        opening = hours.next_opening(now)
        if opening is None:
            dispatcher.utter_message(response="utter_handoff_offline_no_hours")
        else:
            dispatcher.utter_message(
                response="utter_handoff_offline", hours=hours.describe(), next_opening=describe_opening(opening, now)
            )
        dispatcher.utter_message(response="utter_ask_leave_message")
        logger.info("handoff offline channel=%s", _channel(tracker))
        return [*slots, SlotSet("handoff_mode", "offline")]


class ValidateHandoffMessageForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_message_form"

    def validate_handoff_message(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < 5 or text.startswith("/"):
            dispatcher.utter_message(response="utter_handoff_message_too_short")
            return {"handoff_message": None}
        return {"handoff_message": text[:2000]}


class ActionSaveHandoffMessage(Action):
    def name(self) -> str:
        return "action_save_handoff_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference = str(tracker.get_slot("handoff_reference") or "")
        message = str(tracker.get_slot("handoff_message") or "")
        reset: list[EventType] = [SlotSet("handoff_message", None), SlotSet("handoff_mode", None)]
        try:
            saved = bool(reference and message) and get_interactions().leave_message(
                reference=reference, sender_id=tracker.sender_id, message=message
            )
        except Exception:  # noqa: BLE001
            logger.exception("handoff message could not be saved")
            saved = False
        if not saved:
            dispatcher.utter_message(response="utter_handoff_failed")
            return reset
        dispatcher.utter_message(response="utter_handoff_message_saved", reference=reference)
        return reset


class ActionHandoffNoMessage(Action):
    def name(self) -> str:
        return "action_handoff_no_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_handoff_no_message", reference=tracker.get_slot("handoff_reference") or ""
        )
        return [SlotSet("handoff_mode", None)]


# What the agents' tool appends to give a conversation back to the bot: resume, forget
# the handoff, and mark the bot as listening again (the citizen's messages logged while
# paused were never answered by the bot, so without it the next turn looks out of order).
RESUME_EVENTS: list[dict[str, Any]] = [
    {"event": "resume"},
    {"event": "slot", "name": "handoff_mode", "value": None},
    {"event": "action", "name": "action_listen"},
]


def resume_conversation(rasa_url: str, sender_id: str, token: str = "", timeout: float = 10.0) -> None:
    """Gives a paused conversation back to the bot (for the agents' tool)."""
    url = f"{rasa_url.rstrip('/')}/conversations/{urllib.request.quote(sender_id, safe='')}/tracker/events"
    if token:
        url += f"?token={urllib.request.quote(token, safe='')}"
    body = json.dumps(RESUME_EVENTS).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - staff-configured URL
        if response.status != 200:
            raise RuntimeError(f"Rasa answered {response.status}")


# --- answer feedback and ratings ------------------------------------------------------------------
class ActionSaveKbFeedback(Action):
    def name(self) -> str:
        return "action_save_kb_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        helpful = _intent(tracker.latest_message) == "affirm"
        try:
            get_interactions().record_answer_feedback(
                sender_id=tracker.sender_id,
                channel=_channel(tracker),
                procedure_id=tracker.get_slot("last_procedure"),
                helpful=helpful,
            )
        except Exception:  # noqa: BLE001 - losing one feedback must not break the chat
            logger.exception("answer feedback not stored")
        dispatcher.utter_message(response="utter_kb_helpful_thanks" if helpful else "utter_kb_not_helpful")
        return []


_NUMBER_WORDS = {
    "cero": 0, "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip
_NUM = r"(\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_SCALE_RE = re.compile(rf"\b{_NUM}\s*(?:/|de|sobre)\s*(5|10|cinco|diez)\b")
_UNIT_RE = re.compile(rf"\b{_NUM}\s*(?:estrellas?|puntos?|⭐)")
_VERB_RE = re.compile(rf"\b(?:doy|pongo|califico(?: con)?|puntaje|calificacion|nota)\s*:?\s*(?:un |una )?{_NUM}\b")
_BARE_RE = re.compile(r"^\s*([1-5])\s*$")


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def parse_score(text: str) -> int | None:
    """A 1-5 score from what the citizen wrote, or None ("9 de 10" -> 5, "cero estrellas" -> 1)."""
    plain = textnorm.plain(text)
    match = _SCALE_RE.search(plain)
    if match:
        value, scale = _number(match.group(1)), _number(match.group(2))
        return _clamp(value if scale == 5 else math.ceil(value / 2))
    for pattern in (_UNIT_RE, _VERB_RE, _BARE_RE):
        match = pattern.search(plain)
        if match:
            value = _number(match.group(1))
            if value > 10:
                return None
            return _clamp(value if value <= 5 else math.ceil(value / 2))
    return None


def _clamp(value: int) -> int:
    return min(5, max(1, value))


class ActionSaveFeedback(Action):
    """A rating (from the 1-5 buttons or words) and/or a comment about the help."""

    def name(self) -> str:
        return "action_save_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        entity = next(
            (str(e["value"]) for e in tracker.latest_message.get("entities", []) or [] if e.get("entity") == "rating"),
            None,
        )
        score = parse_score(entity) if entity else parse_score(text) if not text.startswith("/") else None
        comment = None if text.startswith("/") else text
        try:
            if score is not None or (comment and comment.strip()):
                get_interactions().record_rating(
                    sender_id=tracker.sender_id, channel=_channel(tracker), score=score, comment=comment
                )
        except Exception:  # noqa: BLE001
            logger.exception("rating not stored")
        if score is not None and score <= 2:
            dispatcher.utter_message(response="utter_feedback_sorry")
        elif score is not None:
            dispatcher.utter_message(response="utter_rating_thanks")
        else:
            dispatcher.utter_message(response="utter_feedback_thanks")
        logger.info("feedback stored score=%s", score)
        return []


# --- suggestions ------------------------------------------------------------------------------------
_GENERIC_WORDS = frozenset(
    """
    tengo tenemos una uno idea ideas sugerencia sugerencias propuesta propuestas quiero quisiera queria hacer
    dejar dejo les para muni municipalidad municipio ayuntamiento mejorar proponer sugerir sugiero propongo
    gustaria dar hola algo puedo podria otra nueva hay favor porfa aca ahi esto eso tambien como donde
    buenas buen dia tarde noche mas con los las del por que
    """.split()
)


def suggestion_is_specific(text: str) -> bool:
    """True when the text says what the idea is (not just "tengo una sugerencia")."""
    if text.strip().startswith("/"):
        return False
    words = re.findall(r"[a-zñ]+", textnorm.plain(text))
    content = [w for w in words if len(w) >= 3 and w not in _GENERIC_WORDS]
    return len(content) >= 2


class ValidateSuggestionForm(FormValidationAction):
    def name(self) -> str:
        return "validate_suggestion_form"

    def validate_suggestion_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not suggestion_is_specific(text):
            return {"suggestion_text": None}  # the form asks: "¿Cuál es su idea?"
        return {"suggestion_text": text[:2000]}


class ActionSaveSuggestion(Action):
    def name(self) -> str:
        return "action_save_suggestion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = str(tracker.get_slot("suggestion_text") or "")
        reset: list[EventType] = [SlotSet("suggestion_text", None)]
        try:
            topic = get_interactions().record_suggestion(
                sender_id=tracker.sender_id, channel=_channel(tracker), text=text
            )
        except Exception:  # noqa: BLE001
            logger.exception("suggestion not stored")
            dispatcher.utter_message(response="utter_technical_problem")
            return reset
        dispatcher.utter_message(response="utter_suggestion_saved", topic=TOPIC_LABELS.get(topic, topic))
        logger.info("suggestion stored topic=%s", topic)
        return reset
