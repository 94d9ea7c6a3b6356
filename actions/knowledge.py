"""Answers questions about procedures from the knowledge base, citing the source.

The bot never states a requirement it did not find: below the abstention
threshold it says it is not sure, offers the closest procedures and a person.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import get_services
from knowledge_base.search import Hit, SearchResult, Searcher

logger = logging.getLogger(__name__)

# A follow-up ("¿y cuánto cuesta?") stays in the last procedure unless another
# procedure matches clearly better than this margin.
FOLLOW_UP_MARGIN = 0.03


def _entity(tracker: Tracker, name: str) -> str | None:
    for entity in tracker.latest_message.get("entities", []) or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def choose_result(searcher: Searcher, question: str, last_procedure: str | None, followup_threshold: float) -> SearchResult:
    """The global result, or the one within the last procedure when it is a follow-up."""
    overall = searcher.search(question)
    if not last_procedure:
        return overall
    within = searcher.search(question, within=last_procedure, top_k=1, threshold=followup_threshold)
    if within.abstained:
        return overall
    best_other = overall.closest[0] if overall.closest else None
    if best_other is None or best_other.procedure_id == last_procedure:
        return within
    if overall.abstained or best_other.score < within.hits[0].score + FOLLOW_UP_MARGIN:
        return within
    return overall


def section_hit(searcher: Searcher, procedure_id: str, section: str) -> Hit | None:
    """The passage of one section of a procedure (buttons like «Ver requisitos»)."""
    index = searcher.index
    for i in index.by_procedure.get(procedure_id, []):
        passage = index.passages[i]
        if passage.section == section:
            return Hit(procedure_id, index.documents[procedure_id], passage, 1.0, 1.0, 0.0)
    return None


def answer_text(hit: Hit) -> str:
    passage = hit.passage
    if passage.kind == "faq":
        return passage.text
    return f"{hit.document.title} — {passage.label}:\n{passage.text}"


def kb_answer_payload(hit: Hit) -> dict[str, Any]:
    """The machine-readable companion of every answer (the widget's source chip)."""
    return {
        "type": "kb_answer",
        "procedure_id": hit.procedure_id,
        "title": hit.document.title,
        "source_url": hit.document.source_url,
        "last_reviewed": hit.document.last_reviewed,
        "score": round(float(hit.score), 4),
    }


class ActionAnswerProcedure(Action):
    def name(self) -> str:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        try:
            return self._answer(dispatcher, tracker)
        except Exception:  # noqa: BLE001 - the citizen must always get a reply
            logger.exception("knowledge answer failed")
            dispatcher.utter_message(response="utter_technical_problem")
            return []

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        services = get_services()
        searcher = services.search.searcher()
        text = (tracker.latest_message.get("text") or "").strip()
        from_button = text.startswith("/")
        procedure = _entity(tracker, "procedure") if from_button else None
        section = _entity(tracker, "kb_section") or "summary"

        if procedure:
            hit = section_hit(searcher, procedure, section)
            if hit is not None:
                return self._utter_hit(dispatcher, hit)
        if from_button or not text:
            dispatcher.utter_message(response="utter_ask_what_procedure")
            return []

        settings = services.settings.kb
        result = choose_result(
            searcher, text, tracker.get_slot("last_procedure"), settings.abstain_threshold - settings.followup_relief
        )
        if result.hits:
            return self._utter_hit(dispatcher, result.hits[0])
        return self._utter_abstention(dispatcher, tracker, result)

    def _utter_hit(self, dispatcher: CollectingDispatcher, hit: Hit) -> list[EventType]:
        document = hit.document
        dispatcher.utter_message(response="utter_kb_answer", answer=answer_text(hit))
        dispatcher.utter_message(
            response="utter_kb_source",
            title=document.title,
            source_url=document.source_url,
            last_reviewed=document.last_reviewed,
        )
        dispatcher.utter_message(json_message=kb_answer_payload(hit))
        dispatcher.utter_message(response="utter_kb_next_steps", procedure_id=hit.procedure_id)
        logger.info("kb answer procedure=%s passage=%s score=%.3f", hit.procedure_id, hit.passage.passage_id, hit.score)
        return [SlotSet("last_procedure", hit.procedure_id), SlotSet("kb_abstain_count", 0.0), SlotSet("kb_answered", True)]

    def _utter_abstention(self, dispatcher: CollectingDispatcher, tracker: Tracker, result: SearchResult) -> list[EventType]:
        dispatcher.utter_message(response="utter_kb_not_sure")
        if result.closest:
            buttons = [
                {"title": hit.document.title, "payload": f'/ask_procedure{{"procedure": "{hit.procedure_id}"}}'}
                for hit in result.closest[:3]
            ]
            dispatcher.utter_message(response="utter_kb_closest", buttons=buttons)
        count = float(tracker.get_slot("kb_abstain_count") or 0) + 1
        if count >= 2:
            dispatcher.utter_message(response="utter_kb_offer_human")
        else:
            dispatcher.utter_message(response="utter_kb_rephrase")
        best = result.closest[0].score if result.closest else 0.0
        logger.info("kb abstained best_score=%.3f attempt=%d", best, int(count))
        return [SlotSet("kb_abstain_count", count), SlotSet("kb_answered", False)]
