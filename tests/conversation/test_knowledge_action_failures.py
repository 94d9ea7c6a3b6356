"""When the knowledge action gives no answer, ``kb_answered`` is False, never a stale True.

The rules ask "¿Le sirvió esta respuesta?" when ``kb_answered`` is True after
``action_answer_procedure``; a True left over from an earlier answer would ask it after
a technical problem. (Answers and abstentions are tested in tests/kb/test_action.py.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.services
from actions.knowledge import ActionAnswerProcedure
from tests.conversation.conftest import Env, tracker


class BrokenSearch:
    def searcher(self) -> Any:
        raise RuntimeError("index not readable")


def run(text: str, entities: list[dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    state = tracker(
        text=text,
        intent="ask_procedure",
        entities=entities,
        slots={"kb_answered": True, "last_procedure": "pasaporte-emision"},
    )
    events = asyncio.run(ActionAnswerProcedure().run(dispatcher, state, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_a_failing_knowledge_base_sets_kb_answered_false(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions.services.get_services(), "search", BrokenSearch())
    messages, slots = run("cuanto cuesta el pasaporte")
    assert [m["response"] for m in messages] == ["utter_technical_problem"]
    assert slots == {"kb_answered": False}


def test_a_button_without_a_procedure_asks_which_one_and_sets_kb_answered_false(env: Env) -> None:
    messages, slots = run('/ask_procedure{"kb_section": "cost"}', entities=[{"entity": "kb_section", "value": "cost"}])
    assert [m["response"] for m in messages] == ["utter_ask_what_procedure"]
    assert slots == {"kb_answered": False}
