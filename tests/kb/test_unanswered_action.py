"""What the actions record as unanswered (fake embedder, real action classes, a recording repository)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services as services_module
from actions.feedback import ActionSaveFeedback, ActionSaveKbFeedback
from actions.knowledge import ActionAnswerProcedure
from actions.services import Services
from actions.settings import ActionSettings
from actions.unanswered import previous_question
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.search import IndexHolder
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake


class Recorder:
    """Stands in for InteractionRepository: keeps what the actions store."""

    def __init__(self) -> None:
        self.unanswered: list[dict[str, Any]] = []

    def record_unanswered(self, **values: Any) -> None:
        self.unanswered.append(values)

    def record_answer_feedback(self, **values: Any) -> None:
        pass

    def record_rating(self, **values: Any) -> None:
        pass


@pytest.fixture
def recorder(kb_settings: SearchSettings) -> Iterator[Recorder]:
    build_fake(kb_settings)
    found = Recorder()
    holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=0.0)
    services_module.set_services(
        Services(ActionSettings(kb=kb_settings), holder, cases=None, titles={}, interactions=found)  # type: ignore[arg-type]
    )
    yield found
    services_module.set_services(None)  # type: ignore[arg-type]


def _user(text: str, intent: str, confidence: float = 0.9) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def _tracker(
    latest: dict[str, Any], events: list[dict[str, Any]], slots: dict[str, Any] | None = None, loop: str = ""
) -> Tracker:
    return Tracker(
        sender_id="citizen-9",
        slots=dict(slots or {}),
        latest_message={"text": latest["text"], "intent": latest["parse_data"]["intent"], "entities": []},
        events=[*events, latest],
        paused=False,
        followup_action=None,
        active_loop={"name": loop} if loop else {},
        latest_action_name="action_listen",
    )


def _run(action: Any, tracker: Tracker) -> None:
    asyncio.run(action.run(CollectingDispatcher(), tracker, {}))


def test_an_abstention_is_recorded_with_candidates_and_the_form_values_as_secrets(recorder: Recorder) -> None:
    question = _user("receta de empanadas de carne al horno", "ask_procedure", 0.55)
    _run(ActionAnswerProcedure(), _tracker(question, [], slots={"full_name": "Ana Gil"}))
    (stored,) = recorder.unanswered
    assert stored["reason"] == "abstained" and stored["question"] == "receta de empanadas de carne al horno"
    assert stored["intent"] == "ask_procedure" and stored["intent_confidence"] == pytest.approx(0.55)
    assert stored["secrets"] == ["Ana Gil"] and stored["channel"]
    # The masked question's vector from the search's own embedder, so the inbox need not embed it.
    assert stored["embedding"] and len(stored["embedding"]) == FakeEmbedder().dim and stored["embedding_model"]


def test_a_fallback_keeps_the_best_real_intent(recorder: Recorder) -> None:
    message = _user("receta de empanadas de carne al horno", "nlu_fallback", 0.45)
    message["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "suggestion", "confidence": 0.31},
    ]
    tracker = _tracker(message, [])
    tracker.latest_message["intent_ranking"] = message["parse_data"]["intent_ranking"]
    _run(ActionAnswerProcedure(), tracker)
    (stored,) = recorder.unanswered
    assert stored["reason"] == "fallback" and stored["intent"] == "suggestion"


def test_nothing_is_recorded_inside_a_form(recorder: Recorder) -> None:
    _run(ActionAnswerProcedure(), _tracker(_user("Ana María Gil Pérez", "nlu_fallback", 0.3), [], loop="case_form"))
    assert recorder.unanswered == []


def test_not_helpful_and_a_low_rating_record_the_question_before_them(recorder: Recorder) -> None:
    history = [
        _user("cuánto cuesta el pasaporte", "ask_procedure"),
        {"event": "active_loop", "name": "case_form"},
        _user("Ana María Gil Pérez", "inform"),  # a form answer: never a question to record
        {"event": "active_loop", "name": None},
    ]
    _run(ActionSaveKbFeedback(), _tracker(_user("no", "deny"), history))
    _run(ActionSaveFeedback(), _tracker(_user("le doy un 1", "feedback"), history))
    _run(ActionSaveFeedback(), _tracker(_user("5 estrellas", "feedback"), history))  # a good rating: nothing
    assert [(u["reason"], u["question"]) for u in recorder.unanswered] == [
        ("not_helpful", "cuánto cuesta el pasaporte"),
        ("low_rating", "cuánto cuesta el pasaporte"),
    ]
    assert recorder.unanswered[0]["candidates"], "fresh candidates from the knowledge base"


def test_the_previous_question_skips_buttons_and_form_answers() -> None:
    history = [
        _user("como renuevo el dni", "ask_procedure"),
        _user("/affirm", "affirm"),
        {"event": "active_loop", "name": "case_form"},
        _user("30123456", "ask_procedure"),
        {"event": "active_loop", "name": None},
    ]
    turn = previous_question(_tracker(_user("no", "deny"), history))
    assert turn is not None and turn.text == "como renuevo el dni"
