"""Never leave a citizen stuck: a person, or a message for one (``action_human_handoff``).

During office hours the conversation is marked for an agent and the bot pauses (Rasa's
``ConversationPaused``: Rasa keeps logging the citizen's messages but predicts nothing).
Outside office hours the citizen is told when someone will answer and may leave a
message. Either way a summary of the conversation (without personal data) is stored for
the agent.

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
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.office_hours import describe_opening
from actions.services import get_services
from actions.tracker_info import input_channel, intent_name
from backend.codes import DEFAULT_PREFIX
from backend.redaction import redact

logger = logging.getLogger(__name__)

# Slots whose answers are personal data: never copied into a summary.
PERSONAL_SLOTS = frozenset(
    {"full_name", "document_number", "contact", "verification", "list_verification", "handoff_message"}
)
SUMMARY_MESSAGES = 8


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


clock: Callable[[], datetime] = utcnow


# --- conversation summary for the agent -------------------------------------------------------
def conversation_summary(
    tracker: Tracker, *, reason: str, titles: dict[str, str], case_code_prefix: str = DEFAULT_PREFIX
) -> str:
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
            intent = intent_name(event)
            if requested in PERSONAL_SLOTS:
                shown = "[dato personal del formulario]"
            elif text.startswith("/"):
                shown = "[tocó un botón]"
            else:
                shown = redact(text, 300, case_code_prefix=case_code_prefix)
            messages.append(f"- ({intent or 'sin intención'}) {shown}")
    lines = [f"Motivo: {reason}", f"Canal: {input_channel(tracker)}"]
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
            services = get_services()
            hours = services.settings.hours()
            now = clock()
            live = hours.is_open(now)
            summary = conversation_summary(
                tracker,
                reason=_reason(tracker),
                titles=services.titles,
                case_code_prefix=services.settings.case_code_prefix,
            )
            reference = get_services().interactions.open_handoff(
                sender_id=tracker.sender_id, channel=input_channel(tracker), during_office_hours=live, summary=summary
            )
        except Exception:  # the citizen still needs a way forward
            logger.exception("handoff could not be registered")
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        slots: list[EventType] = [SlotSet("handoff_reference", reference), SlotSet("kb_abstain_count", 0.0)]
        if live:
            dispatcher.utter_message(response="utter_handoff_live", reference=reference)
            logger.info("handoff live channel=%s", input_channel(tracker))
            return [*slots, SlotSet("handoff_mode", "live"), ConversationPaused()]
        opening = hours.next_opening(now)
        if opening is None:
            dispatcher.utter_message(response="utter_handoff_offline_no_hours")
        else:
            dispatcher.utter_message(
                response="utter_handoff_offline", hours=hours.describe(), next_opening=describe_opening(opening, now)
            )
        dispatcher.utter_message(response="utter_ask_leave_message")
        logger.info("handoff offline channel=%s", input_channel(tracker))
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
            saved = bool(reference and message) and get_services().interactions.leave_message(
                reference=reference, sender_id=tracker.sender_id, message=message
            )
        except Exception:
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
    url = f"{rasa_url.rstrip('/')}/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker/events"
    if token:
        url += f"?token={urllib.parse.quote(token, safe='')}"
    body = json.dumps(RESUME_EVENTS).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - staff-configured URL
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - staff-configured URL
        if response.status != 200:
            raise RuntimeError(f"Rasa answered {response.status}")
