"""Citizens' ideas for the agency (``validate_suggestion_form``, ``action_save_suggestion``),
stored with a topic (``backend.suggestion_topics``)."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import textnorm
from actions.services import get_services
from actions.tracker_info import input_channel
from backend.suggestion_topics import TOPIC_LABELS

logger = logging.getLogger(__name__)


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
            topic = get_services().interactions.record_suggestion(
                sender_id=tracker.sender_id, channel=input_channel(tracker), text=text
            )
        except Exception:
            logger.exception("suggestion not stored")
            dispatcher.utter_message(response="utter_technical_problem")
            return reset
        dispatcher.utter_message(response="utter_suggestion_saved", topic=TOPIC_LABELS.get(topic, topic))
        logger.info("suggestion stored topic=%s", topic)
        return reset
