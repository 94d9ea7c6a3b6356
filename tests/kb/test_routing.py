"""The routing rule (actions/route_rule.py) at each branch, and the routing action over the
fake index: what the citizen receives and which ``route`` the rules continue from."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services as services_module
from actions.route_rule import Route, RoutingSettings, decide
from actions.routing import ActionRouteMessage
from actions.services import Services
from actions.settings import ActionSettings
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.search import IndexHolder
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake

RULE = RoutingSettings(
    answer_kb=0.10,
    answer_intent=0.90,
    ask_kb=0.06,
    ask_intent=0.999,
    answer_kb_conversation=0.15,
    answer_intent_conversation=0.70,
)


# --- the rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("intent", "intent_conf", "kb_conf", "expected"),
    [
        ("open_case", 0.80, 0.12, Route.ANSWER),  # KB very sure, intent moderate
        ("out_of_scope", 0.60, 0.10, Route.ANSWER),  # exactly at the KB threshold
        ("open_case", 0.95, 0.12, Route.ASK),  # KB very sure but intent sure too: ask
        ("check_case_status", 0.80, 0.07, Route.ASK),  # KB only plausible: ask
        ("list_my_cases", 0.9995, 0.07, Route.INTENT),  # intent certain, KB only plausible
        ("open_case", 0.50, 0.03, Route.INTENT),  # KB does not recognise a procedure
        ("ask_procedure", 0.50, 0.30, Route.INTENT),  # not a routed intent (the KB answers it anyway)
        ("greet", 0.40, 0.30, Route.INTENT),
        # help, suggestion, feedback, goodbye: rule 2 with their own thresholds, never asked back
        ("help", 0.60, 0.16, Route.ANSWER),  # "necesito ayuda con la pensión de mi mamá"
        ("help", 0.60, 0.12, Route.INTENT),  # enough for open_case, not for help
        ("suggestion", 0.75, 0.16, Route.INTENT),  # the intent too sure
        ("feedback", 0.95, 0.12, Route.INTENT),  # would be asked as open_case; a comment is saved
        ("goodbye", 0.60, 0.16, Route.ANSWER),
    ],
)
def test_each_branch_of_the_rule(intent: str, intent_conf: float, kb_conf: float, expected: Route) -> None:
    decision = decide(intent, intent_conf, kb_conf, RULE)
    assert decision.route is expected
    assert decision.reason  # every decision says why, for the log and for staff


def test_a_button_or_a_case_code_always_follows_the_intent() -> None:
    assert decide("open_case", 0.10, 0.50, RULE, forced=True).route is Route.INTENT


def test_thresholds_come_from_ventanilla_route_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_ROUTE_ANSWER_KB", "0.2")
    monkeypatch.setenv("VENTANILLA_ROUTE_ASK_INTENT", "0.5")
    settings = ActionSettings()
    assert settings.routing.answer_kb == 0.2 and settings.routing.ask_intent == 0.5


# --- the action over the fake index ---------------------------------------------------------------
@pytest.fixture
def install(kb_settings: SearchSettings) -> Iterator[Any]:
    """Installs services around the fake index with the given routing thresholds."""

    def _install(routing: RoutingSettings) -> None:
        if not kb_settings.index_dir.exists():
            build_fake(kb_settings)
        holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=0.0)
        settings = ActionSettings(kb=kb_settings, routing=routing)
        services_module.set_services(Services(settings, holder, cases=None, titles={}, interactions=None))  # type: ignore[arg-type]

    yield _install
    services_module.set_services(None)  # type: ignore[arg-type]


def route(
    text: str, intent: str, confidence: float = 0.8, active_loop: str | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tracker = Tracker(
        sender_id="test",
        slots={},
        latest_message={"text": text, "entities": [], "intent": {"name": intent, "confidence": confidence}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRouteMessage().run(dispatcher, tracker, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


QUESTION = "me robaron la cedula, como saco otra"
ALWAYS = 0.0  # a KB threshold every result passes
NEVER = 99.0  # one none passes


def test_answer_branch_sends_the_kb_answer(install: Any) -> None:
    install(RoutingSettings(answer_kb=ALWAYS, answer_intent=1.01, ask_kb=ALWAYS, ask_intent=1.01))
    messages, slots = route(QUESTION, "open_case")
    payloads = [m["custom"] for m in messages if m.get("custom")]
    assert payloads and payloads[0]["type"] == "kb_answer"
    assert payloads[0]["procedure_id"] == "documento-identidad-duplicado"
    assert slots["route"] == "answer" and slots["kb_answered"] is True


def test_ask_branch_offers_both_readings_as_buttons(install: Any) -> None:
    install(
        RoutingSettings(
            answer_kb=NEVER, answer_intent=0.0, ask_kb=ALWAYS, ask_intent=1.01, answer_kb_conversation=NEVER
        )
    )
    messages, slots = route(QUESTION, "open_case")
    [message] = messages
    assert message["response"] == "utter_route_ask_open_case"
    assert message["procedure_title"]
    assert [b["title"] for b in message["buttons"]] == ["Ver requisitos", "Iniciar la solicitud"]
    assert message["buttons"][0]["payload"] == (
        '/ask_procedure{"procedure": "documento-identidad-duplicado", "kb_section": "requirements"}'
    )
    assert message["buttons"][1]["payload"] == '/open_case{"procedure": "documento-identidad-duplicado"}'
    assert slots == {"route": "ask", "kb_answered": False}
    messages, _ = route(QUESTION, "check_case_status")
    assert [b["payload"] for b in messages[0]["buttons"]][1] == "/check_case_status"
    messages, _ = route(QUESTION, "out_of_scope")
    assert [b["payload"] for b in messages[0]["buttons"]][1] == "/out_of_scope"
    messages, _ = route(QUESTION, "cancel")
    assert messages[0]["response"] == "utter_route_ask_cancel"
    assert [b["payload"] for b in messages[0]["buttons"]][1] == "/cancel"
    for intent in ("help", "suggestion", "feedback", "goodbye"):  # never asked back
        assert route(QUESTION, intent) == ([], {"route": "intent"})


def test_intent_branch_says_nothing(install: Any) -> None:
    install(RoutingSettings(answer_kb=NEVER, answer_intent=0.0, ask_kb=NEVER, ask_intent=0.0))
    assert route(QUESTION, "check_case_status") == ([], {"route": "intent"})
    assert route(QUESTION, "out_of_scope") == ([], {"route": "intent"})


def test_help_a_suggestion_or_a_comment_inside_a_form_follows_the_intent(install: Any) -> None:
    # Inside a form they are about the form ("¿y esto para qué es?"), never a procedure question.
    install(RoutingSettings(answer_kb_conversation=ALWAYS, answer_intent_conversation=1.01))
    for intent in ("help", "suggestion", "feedback", "goodbye"):
        assert route(QUESTION, intent, active_loop="open_case_form") == ([], {"route": "intent"})
    # outside a form the same message is answered
    assert route(QUESTION, "help")[1]["route"] == "answer"
    assert route(QUESTION, "feedback")[1]["route"] == "answer"


def test_opening_a_case_that_names_a_procedure_answers_first_with_start_one_tap_away(install: Any) -> None:
    # Intent certain and the knowledge base answers about the procedure the message named:
    # what it asks for comes first, and «Iniciar trámite» starts the form with it filled in.
    install(RoutingSettings(answer_kb=NEVER, answer_intent=0.5, ask_kb=ALWAYS, ask_intent=0.5, named_kb=ALWAYS))
    messages, slots = route(QUESTION, "open_case", confidence=0.99)
    assert messages[0]["response"] == "utter_case_procedure_named_answer"
    assert messages[0]["procedure_title"]
    payloads = [m["custom"] for m in messages if m.get("custom")]
    assert [p["procedure_id"] for p in payloads] == ["documento-identidad-duplicado"]
    # «Iniciar trámite» is a button of the domain's next-steps responses (bot/domain/knowledge.yml).
    [next_steps] = [m for m in messages if str(m.get("response", "")).startswith("utter_kb_next_steps")]
    assert next_steps["procedure_id"] == "documento-identidad-duplicado"
    assert slots["route"] == "answer" and slots["kb_answered"] is True
    assert slots["procedure"] is None  # nothing is started until the citizen taps


def test_a_named_procedure_the_knowledge_base_cannot_answer_starts_the_form_filled_in(
    install: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(RoutingSettings(answer_kb=NEVER, answer_intent=0.5, ask_kb=ALWAYS, ask_intent=0.5, named_kb=ALWAYS))
    searcher = services_module.get_services().search.searcher()
    found = searcher.search(QUESTION)
    abstained = dataclasses.replace(found, hits=[])
    monkeypatch.setattr(type(searcher), "search", lambda self, text, *a, **k: abstained)
    messages, slots = route(QUESTION, "open_case", confidence=0.99)
    [message] = messages
    assert message["response"] == "utter_case_procedure_named"
    assert [b["title"] for b in message["buttons"]] == ["Ver requisitos primero"]
    assert slots == {"procedure": "documento-identidad-duplicado", "route": "named"}


def test_buttons_and_case_codes_are_not_routed(install: Any) -> None:
    install(RoutingSettings(answer_kb=ALWAYS, answer_intent=1.01, ask_kb=ALWAYS, ask_intent=1.01))
    assert route('/open_case{"procedure": "pasaporte-emision"}', "open_case") == ([], {"route": "intent"})
    assert route("como va mi tramite EXP-2026-000123", "check_case_status") == ([], {"route": "intent"})


def test_a_failing_search_follows_the_intent(install: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    install(RoutingSettings(answer_kb=ALWAYS, answer_intent=1.01, ask_kb=ALWAYS, ask_intent=1.01))

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(services_module.get_services().search, "searcher", broken)
    assert route(QUESTION, "open_case") == ([], {"route": "intent"})


def test_a_generic_request_below_named_kb_asks_which_procedure(install: Any) -> None:
    # "quiero iniciar un trámite": the form's own question, not a guessed procedure.
    install(RoutingSettings(answer_kb=NEVER, answer_intent=0.5, ask_kb=ALWAYS, ask_intent=0.5, named_kb=NEVER))
    assert route(QUESTION, "open_case", confidence=0.99) == ([], {"route": "intent"})
