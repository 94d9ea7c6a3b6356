"""Answers questions about procedures from the knowledge base, citing the source.

An answer is: the most relevant passage (never the whole file), a source line
(title, link, date of last review), the machine-readable ``kb_answer`` message
(the web widget's source chip), and buttons for the next step. Below the
abstention threshold the bot says it is not sure, offers the closest procedures
and a person, and states nothing it did not find: no ``kb_answer`` is sent.

A follow-up ("¿y cuánto cuesta?") is scored within the procedure last talked
about (slot ``last_procedure``), whose threshold is a little lower because short
questions score lower; it stays there unless another procedure is clearly better.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import unanswered
from actions.services import get_services
from knowledge_base.search import Hit, Searcher, SearchResult

logger = logging.getLogger(__name__)

# Sections a button can ask for (entity ``kb_section``); anything else shows the summary.
BUTTON_SECTIONS = (
    "summary",
    "requirements",
    "steps",
    "cost",
    "processing_time",
    "channels",
    "offices",
    "who_can_apply",
    "legal_basis",
)


def _entity(tracker: Tracker, name: str) -> str | None:
    value = next((v for v in tracker.get_latest_entity_values(name) if v), None)
    return str(value) if value else None


def choose_result(searcher: Searcher, question: str, last_procedure: str | None, *, margin: float) -> SearchResult:
    """The global result, or the one within the last procedure when the question is a follow-up."""
    overall = searcher.search(question)
    if not last_procedure or last_procedure not in searcher.index.by_procedure:
        return overall
    if overall.hits and overall.hits[0].procedure_id == last_procedure:
        return overall
    tuning = searcher.tuning
    within = searcher.search(
        question, within=last_procedure, top_k=1, threshold=tuning.abstain_threshold - tuning.followup_relief
    )
    if within.abstained:
        return overall
    if not overall.abstained and overall.confidence >= within.confidence + margin:
        return overall
    return within


def section_hit(searcher: Searcher, procedure_id: str, section: str) -> Hit | None:
    """The passage of one section of a procedure (buttons like «Ver requisitos»).

    An imported document has no sections: its first passage stands for it.
    """
    index = searcher.index
    ids = index.by_procedure.get(procedure_id)
    if ids is None or not len(ids):
        return None
    chosen = next((int(i) for i in ids if index.passages[int(i)].section == section), None)
    if chosen is None:
        chosen = next((int(i) for i in ids if index.passages[int(i)].section == "summary"), int(ids[0]))
    return Hit(procedure_id, index.documents[procedure_id], index.passages[chosen], 1.0, 1.0, 0.0)


def answer_text(hit: Hit) -> str:
    """The passage as citizens read it, headed by what it answers."""
    passage = hit.passage
    if passage.section == "faq":
        return f"{passage.label}\n{passage.text}"
    if passage.kind == "imported":
        return f"{passage.label}:\n{passage.text}" if passage.label != hit.document.title else passage.text
    return f"{hit.document.title} — {passage.label}:\n{passage.text}"


def spanish_date(iso: str) -> str:
    """2026-09-14 -> 14/09/2026 (what citizens read); the payload keeps the ISO date."""
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


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


def procedure_button(hit: Hit) -> dict[str, str]:
    return {"title": hit.document.title, "payload": f'/ask_procedure{{"procedure": "{hit.procedure_id}"}}'}


class ActionAnswerProcedure(Action):
    def name(self) -> str:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            return self.answer(dispatcher, tracker)
        except Exception:  # the citizen must always get a reply
            logger.exception("knowledge answer failed")
            dispatcher.utter_message(response="utter_technical_problem")
            # Not answered: an earlier answer's True must not trigger "¿Le sirvió?" now.
            return [SlotSet("kb_answered", False)]

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """The answer (or abstention) to the latest message; also used by ``action_route_message``."""
        services = get_services()
        searcher = services.search.searcher()
        text = (tracker.latest_message.get("text") or "").strip()
        from_button = text.startswith("/")
        procedure = _entity(tracker, "procedure") if from_button else None
        section = _entity(tracker, "kb_section") or "summary"
        if section not in BUTTON_SECTIONS:
            section = "summary"

        if procedure:
            hit = section_hit(searcher, procedure, section)
            if hit is not None:
                return self._utter_hit(dispatcher, hit)
        if from_button or not text:
            dispatcher.utter_message(response="utter_ask_what_procedure")
            return [SlotSet("kb_answered", False)]

        result = choose_result(
            searcher, text, tracker.get_slot("last_procedure"), margin=services.settings.kb.followup_margin
        )
        unanswered.record_answer(tracker, result.closest or result.hits, answered=bool(result.hits))
        if result.hits:
            return self._utter_hit(dispatcher, result.hits[0])
        return self._utter_abstention(dispatcher, tracker, searcher, result)

    def _utter_hit(self, dispatcher: CollectingDispatcher, hit: Hit) -> list[EventType]:
        document = hit.document
        dispatcher.utter_message(response="utter_kb_answer", answer=answer_text(hit))
        reviewed = spanish_date(document.last_reviewed)
        if document.source_url:
            dispatcher.utter_message(
                response="utter_kb_source", title=document.title, source_url=document.source_url, last_reviewed=reviewed
            )
        else:
            dispatcher.utter_message(response="utter_kb_source_no_link", title=document.title, last_reviewed=reviewed)
        dispatcher.utter_message(json_message=kb_answer_payload(hit))
        if document.kind != "procedure":
            dispatcher.utter_message(response="utter_kb_next_steps_document")
        elif hit.passage.section == "requirements":
            dispatcher.utter_message(response="utter_kb_next_steps_after_requirements", procedure_id=hit.procedure_id)
        else:
            dispatcher.utter_message(response="utter_kb_next_steps", procedure_id=hit.procedure_id)
        logger.info("kb answer procedure=%s passage=%s score=%.3f", hit.procedure_id, hit.passage.passage_id, hit.score)
        return [
            SlotSet("last_procedure", hit.procedure_id),
            SlotSet("kb_abstain_count", 0.0),
            SlotSet("kb_answered", True),
        ]

    def _utter_abstention(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, searcher: Searcher, result: SearchResult
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_kb_not_sure")
        tuning = searcher.tuning
        floor = tuning.abstain_threshold - tuning.closest_window
        closest = [
            h for h in result.closest if h.document.kind == "procedure" and h.score - result.out_of_scope >= floor
        ]
        human = {"title": "Hablar con una persona", "payload": "/human_handoff"}
        count = float(tracker.get_slot("kb_abstain_count") or 0) + 1
        if closest:
            dispatcher.utter_message(
                response="utter_kb_closest", buttons=[procedure_button(h) for h in closest[:3]] + [human]
            )
        if count >= 2 or not closest:
            dispatcher.utter_message(response="utter_kb_offer_human")
        else:
            dispatcher.utter_message(response="utter_kb_rephrase")
        logger.info("kb abstained confidence=%.3f closest=%d attempt=%d", result.confidence, len(closest), int(count))
        return [SlotSet("kb_abstain_count", count), SlotSet("kb_answered", False)]
