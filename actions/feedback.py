"""What citizens think of the help: "¿Le sirvió esta respuesta?" (``action_save_kb_feedback``)
and 1-5 ratings, from buttons or words ("5 estrellas", "le doy un 4") (``action_save_feedback``)."""

from __future__ import annotations

import logging
import math
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import textnorm
from actions import unanswered
from actions.services import get_services
from actions.tracker_info import input_channel, intent_name
from backend.unanswered.models import Reason

logger = logging.getLogger(__name__)


class ActionSaveKbFeedback(Action):
    def name(self) -> str:
        return "action_save_kb_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        helpful = intent_name(tracker.latest_message) == "affirm"
        try:
            get_services().interactions.record_answer_feedback(
                sender_id=tracker.sender_id,
                channel=input_channel(tracker),
                procedure_id=tracker.get_slot("last_procedure"),
                helpful=helpful,
            )
        except Exception:  # losing one feedback must not break the chat
            logger.exception("answer feedback not stored")
        if not helpful:
            unanswered.record_feedback(tracker, Reason.NOT_HELPFUL)
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
                get_services().interactions.record_rating(
                    sender_id=tracker.sender_id, channel=input_channel(tracker), score=score, comment=comment
                )
        except Exception:
            logger.exception("rating not stored")
        if score is not None and score <= 2:
            unanswered.record_feedback(tracker, Reason.LOW_RATING)
        if score is not None and score <= 2:
            dispatcher.utter_message(response="utter_feedback_sorry")
        elif score is not None:
            dispatcher.utter_message(response="utter_rating_thanks")
        else:
            dispatcher.utter_message(response="utter_feedback_thanks")
        logger.info("feedback stored score=%s", score)
        return []
