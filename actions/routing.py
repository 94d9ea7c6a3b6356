"""The routing action: runs the rule of ``actions.route_rule`` on the intents that steal
procedure questions, and answers, asks or lets the intent's rules continue.

The decision is recorded in the ``route`` slot (``answer`` / ``ask`` / ``intent`` /
``named``): the rules in ``bot/dialogue/routing.yml`` continue from it.
"""

from __future__ import annotations

import logging
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import unanswered
from actions.knowledge import ActionAnswerProcedure
from actions.route_rule import CONVERSATION_INTENTS, ROUTED_INTENTS, Route, decide
from actions.services import get_services
from knowledge_base.search import SearchResult

logger = logging.getLogger(__name__)

CASE_CODE = re.compile(r"\b[A-Za-z]{2,5}-\d{4}-\d{3,}\b")


def _intent(tracker: Tracker) -> tuple[str, float]:
    data = tracker.latest_message.get("intent") or {}
    return str(data.get("name") or ""), float(data.get("confidence") or 0.0)


def _has_entity(tracker: Tracker, name: str) -> bool:
    return any(e.get("entity") == name for e in tracker.latest_message.get("entities", []) or [])


def disambiguation_buttons(intent: str, procedure_id: str) -> list[dict[str, str]]:
    """The two readings of the message, as buttons (the second one follows the intent)."""
    know = {
        "title": "Ver requisitos",
        "payload": f'/ask_procedure{{"procedure": "{procedure_id}", "kb_section": "requirements"}}',
    }
    other = {
        "open_case": {"title": "Iniciar la solicitud", "payload": f'/open_case{{"procedure": "{procedure_id}"}}'},
        "check_case_status": {"title": "Consultar mi trámite", "payload": "/check_case_status"},
        "list_my_cases": {"title": "Ver mis trámites", "payload": "/list_my_cases"},
        "out_of_scope": {"title": "No, es otra cosa", "payload": "/out_of_scope"},
        "cancel": {"title": "No, quería cancelar", "payload": "/cancel"},
    }[intent]
    if intent in ("out_of_scope", "cancel"):
        know = {**know, "title": "Sí, ver requisitos"}
    return [know, other]


def _follows_the_conversation(tracker: Tracker, intent: str) -> bool:
    """Help, a suggestion, a comment or a goodbye inside a form is about the form itself, never a
    procedure question. (A comment answering the rating question never reaches routing:
    the rule "Rating at the end" in bot/dialogue/support.yml saves it.)"""
    return intent in CONVERSATION_INTENTS and bool(tracker.active_loop_name)


def _answer(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The knowledge base's answer; ``route`` says whether it answered (``answer``) or offered
    its closest procedures instead (``ask``): the rules continue from it."""
    events = ActionAnswerProcedure().answer(dispatcher, tracker)
    answered = any(e.get("name") == "kb_answered" and e.get("value") for e in events)
    return [*events, SlotSet("route", (Route.ANSWER if answered else Route.ASK).value)]


class ActionRouteMessage(Action):
    """Runs the rule for the intents that steal procedure questions (see module docstring)."""

    def name(self) -> str:
        return "action_route_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            return self._route(dispatcher, tracker, domain)
        except Exception:  # a routing failure must not lose the citizen's request: follow the intent
            logger.exception("routing failed; following the intent")
            return [SlotSet("route", Route.INTENT.value)]

    def _route(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        services = get_services()
        text = (tracker.latest_message.get("text") or "").strip()
        intent, confidence = _intent(tracker)
        forced = (
            text.startswith("/")
            or bool(CASE_CODE.search(text))
            or _has_entity(tracker, "case_code")
            or _follows_the_conversation(tracker, intent)
        )
        result: SearchResult | None = None
        if not forced and intent in ROUTED_INTENTS and text:
            result = services.search.searcher().search(text)
        kb_confidence = result.confidence if result and result.closest else 0.0
        decision = decide(intent, confidence, kb_confidence, services.settings.routing, forced=forced)
        logger.info(
            "route intent=%s intent_conf=%.3f kb_conf=%.3f route=%s",
            intent,
            confidence,
            kb_confidence,
            decision.route.value,
        )
        if decision.route is Route.ANSWER:
            return _answer(dispatcher, tracker)
        # Only a catalog procedure can be started (an imported document cannot).
        top = next((h for h in (result.closest if result else []) if h.document.kind == "procedure"), None)
        if decision.route is Route.ASK and top is not None:
            dispatcher.utter_message(
                response=f"utter_route_ask_{intent}",
                procedure_title=top.document.title,
                buttons=disambiguation_buttons(intent, top.procedure_id),
            )
            return [SlotSet("route", Route.ASK.value), SlotSet("kb_answered", False)]
        if intent == "open_case" and top is not None and kb_confidence >= services.settings.routing.named_kb:
            if result is not None and result.hits:
                return self._named_answer(dispatcher, tracker, top.document.title)
            return self._named_procedure(dispatcher, top.procedure_id, top.document.title)
        if intent == "out_of_scope" and not forced:  # the bot will say it cannot help: an abstention
            unanswered.record_answer(tracker, result.closest if result else [], answered=False)
        return [SlotSet("route", Route.INTENT.value)]

    @staticmethod
    def _named_answer(dispatcher: CollectingDispatcher, tracker: Tracker, title: str) -> list[EventType]:
        """Opening a case that names a procedure the knowledge base can answer about: what it
        asks for comes first, with «Iniciar trámite» one tap away (its button starts the form
        with the procedure filled in).

        "Quiero sacar el pasaporte" is worded like a request and like a question, and neither
        signal tells them apart (bench/RESULTS.md, issue 13): the answer serves both, and
        costs a citizen who only wanted to start one tap."""
        dispatcher.utter_message(response="utter_case_procedure_named_answer", procedure_title=title)
        # The message's procedure entity already filled the slot; nothing is started yet, so
        # a later generic "iniciar un trámite" must not find it prefilled (the button refills it).
        return [SlotSet("procedure", None), *_answer(dispatcher, tracker)]

    @staticmethod
    def _named_procedure(dispatcher: CollectingDispatcher, procedure_id: str, title: str) -> list[EventType]:
        """Opening a case that names a procedure: fill it in and offer its requirements first
        (this message replaces the generic ``utter_case_intro``)."""
        dispatcher.utter_message(
            response="utter_case_procedure_named",
            procedure_title=title,
            buttons=[
                {
                    "title": "Ver requisitos primero",
                    "payload": f'/ask_procedure{{"procedure": "{procedure_id}", "kb_section": "requirements"}}',
                }
            ],
        )
        return [SlotSet("procedure", procedure_id), SlotSet("route", Route.NAMED.value)]
