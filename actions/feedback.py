"""What citizens think of the help: "¿Le sirvió esta respuesta?" (``action_save_kb_feedback``)
and 1-5 ratings, from buttons or words ("5 estrellas", "le doy un 4") (``action_save_feedback``)."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import unanswered
from actions.services import get_services
from actions.tracker_info import input_channel, intent_name
from backend.unanswered.models import Reason
from textnorm.ratings import parse_score

logger = logging.getLogger(__name__)

__all__ = ["ActionSaveFeedback", "ActionSaveKbFeedback", "parse_score"]


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
