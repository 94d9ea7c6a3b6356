"""Handoff, feedback, ratings and suggestions, run directly against a real SQLite store."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff
from actions.feedback import ActionSaveFeedback, ActionSaveKbFeedback, parse_score
from actions.handoff import (
    ActionHandoffNoMessage,
    ActionHumanHandoff,
    ActionSaveHandoffMessage,
    conversation_summary,
)
from actions.services import get_services
from actions.suggestions import ActionSaveSuggestion, ValidateSuggestionForm, suggestion_is_specific
from tests.conversation.conftest import TITLES, Env, bot, slot, tracker, user

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def run(action: Any, t: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return events, dispatcher.messages


def conversation() -> list[dict[str, Any]]:
    """Opening a case, typing personal data, then asking for a person."""
    return [
        user("cuanto sale el certificado de residencia, mi mail es juana@correo.com", "ask_procedure"),
        slot("last_procedure", "certificado-residencia"),
        user("quiero iniciar el tramite", "open_case"),
        slot("requested_slot", "full_name"),
        user("Juana Martinez", "inform"),
        slot("requested_slot", "document_number"),
        user("30111222", "inform"),
        slot("requested_slot", "contact"),
        user("+54 9 11 5555 1234", "inform"),
        {"event": "active_loop", "name": None},
        slot("requested_slot", None),
    ]


def test_summary_keeps_context_but_no_personal_data() -> None:
    t = tracker(events=conversation(), text="quiero hablar con una persona", intent="human_handoff")
    summary = conversation_summary(t, reason="el ciudadano pidió hablar con una persona", titles=TITLES)
    assert "Certificado de residencia (certificado-residencia)" in summary
    assert "(open_case) quiero iniciar el tramite" in summary
    assert "(human_handoff) quiero hablar con una persona" in summary
    for secret in ("juana@correo.com", "Juana", "Martinez", "30111222", "5555"):
        assert secret not in summary, secret
    assert "[correo]" in summary and summary.count("[dato personal del formulario]") == 3


def test_summary_lists_cases_opened_by_the_bot_only() -> None:
    events = [
        user("hola", "greet"),
        slot("case_code", "EXP-2026-000007"),
        bot("Su número de trámite es EXP-2026-000007."),
    ]
    events += [user("como va EXP-2026-000999", "check_case_status"), slot("case_code", "EXP-2026-000999")]
    summary = conversation_summary(tracker(events=events), reason="r", titles=TITLES)
    assert "EXP-2026-000007" in summary.split("Últimos mensajes")[0]
    assert "EXP-2026-000999" not in summary.split("Últimos mensajes")[0]


def _with_clock(monkeypatch: pytest.MonkeyPatch, now: datetime, hours: str = "mon-fri 08:00-15:00") -> None:
    services = get_services()
    monkeypatch.setattr(actions.handoff, "clock", lambda: now)
    monkeypatch.setattr(
        services, "settings", services.settings.model_copy(update={"office_hours": hours, "timezone": "UTC"})
    )


def test_handoff_during_office_hours_pauses_the_bot(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_clock(monkeypatch, MONDAY_NOON)
    events, messages = run(
        ActionHumanHandoff(), tracker(events=conversation(), text="un humano", intent="human_handoff")
    )
    assert [m["response"] for m in messages] == ["utter_handoff_live"]
    assert {"event": "pause", "timestamp": None} in events
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["handoff_mode"] == "live"
    [request] = env.interactions.open_handoffs()
    assert request.reference == slots["handoff_reference"] == messages[0]["reference"]
    assert request.state == "waiting_agent" and request.during_office_hours
    assert "certificado-residencia" in request.summary and "30111222" not in request.summary


def test_handoff_outside_office_hours_offers_to_leave_a_message(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_clock(monkeypatch, SATURDAY_NOON)
    events, messages = run(ActionHumanHandoff(), tracker(text="un humano", intent="human_handoff"))
    assert [m["response"] for m in messages] == ["utter_handoff_offline", "utter_ask_leave_message"]
    assert messages[0]["next_opening"] == "el lunes a las 08:00"
    assert messages[0]["hours"] == "de lunes a viernes, de 08:00 a 15:00"
    assert not any(e["event"] == "pause" for e in events)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["handoff_mode"] == "offline"

    message = "necesito que me llamen al 11 5555 1234 por mi pension"
    events, messages = run(
        ActionSaveHandoffMessage(),
        tracker(
            slots={"handoff_reference": slots["handoff_reference"], "handoff_message": message},
            text=message,
            intent="inform",
        ),
    )
    assert [m["response"] for m in messages] == ["utter_handoff_message_saved"]
    request = env.interactions.handoff(slots["handoff_reference"])
    assert request is not None and request.state == "message_left"
    assert request.message == "necesito que me llamen al [número] por mi pension"


def test_no_live_chat_configured(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_clock(monkeypatch, MONDAY_NOON, hours="")
    _, messages = run(ActionHumanHandoff(), tracker(text="un humano", intent="human_handoff"))
    assert [m["response"] for m in messages] == ["utter_handoff_offline_no_hours", "utter_ask_leave_message"]
    _, messages = run(ActionHandoffNoMessage(), tracker(slots={"handoff_reference": "ATN-X"}, text="no", intent="deny"))
    assert [m["response"] for m in messages] == ["utter_handoff_no_message"]


def test_handoff_store_down_still_answers(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_clock(monkeypatch, MONDAY_NOON)

    class Broken:
        def open_handoff(self, **_: Any) -> str:
            raise RuntimeError("database is down")

    monkeypatch.setattr(get_services(), "interactions", Broken())
    events, messages = run(ActionHumanHandoff(), tracker(text="un humano", intent="human_handoff"))
    assert events == [] and [m["response"] for m in messages] == ["utter_handoff_failed"]


def test_answer_feedback_is_stored_with_the_procedure(env: Env) -> None:
    _, messages = run(
        ActionSaveKbFeedback(), tracker(slots={"last_procedure": "pasaporte-emision"}, text="/deny", intent="deny")
    )
    assert [m["response"] for m in messages] == ["utter_kb_not_helpful"]
    _, messages = run(
        ActionSaveKbFeedback(), tracker(slots={"last_procedure": "pasaporte-emision"}, text="si", intent="affirm")
    )
    assert [m["response"] for m in messages] == ["utter_kb_helpful_thanks"]
    from sqlalchemy import text

    from backend.db import make_engine

    engine = make_engine(env.db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT procedure_id, helpful FROM answer_feedback ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("pasaporte-emision", False), ("pasaporte-emision", True)]


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5), ("4 estrellas", 4), ("tres estrellas", 3), ("3 de 5", 3), ("5/5", 5), ("un 1 de 5", 1),
        ("9 de 10", 5), ("le doy un 10", 5), ("le pongo un 7", 4), ("cero estrellas", 1), ("calificación: 4", 4),
        ("puntaje 2", 2), ("muy buena atención", None), ("tengo 30 años", None),
    ],
)  # fmt: skip
def test_scores_in_words(text: str, score: int | None) -> None:
    assert parse_score(text) == score


def test_rating_from_button_and_low_rating_offers_a_person(env: Env) -> None:
    rating = [{"entity": "rating", "value": "5"}]
    _, messages = run(
        ActionSaveFeedback(), tracker(text='/feedback{"rating": "5"}', intent="feedback", entities=rating)
    )
    assert [m["response"] for m in messages] == ["utter_rating_thanks"]
    _, messages = run(ActionSaveFeedback(), tracker(text="pésimo, 1 estrella, no me ayudó", intent="feedback"))
    assert [m["response"] for m in messages] == ["utter_feedback_sorry"]
    _, messages = run(ActionSaveFeedback(), tracker(text="muy clara la info", intent="feedback"))
    assert [m["response"] for m in messages] == ["utter_feedback_thanks"]
    from sqlalchemy import text

    from backend.db import make_engine

    engine = make_engine(env.db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT score, comment FROM ratings ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(5, None), (1, "pésimo, 1 estrella, no me ayudó"), (None, "muy clara la info")]


@pytest.mark.parametrize(
    ("text", "specific"),
    [
        ("tengo una sugerencia", False),
        ("quiero hacer una propuesta para la muni", False),
        ("/suggestion", False),
        ("deberían poner más colectivos a la noche", True),
        ("pongan rampas en las esquinas", True),
    ],
)
def test_a_suggestion_needs_its_content(text: str, specific: bool) -> None:
    assert suggestion_is_specific(text) is specific


def test_suggestion_is_asked_for_then_stored_with_its_topic(env: Env) -> None:
    form = ValidateSuggestionForm()
    assert form.validate_suggestion_text("les dejo una sugerencia", CollectingDispatcher(), tracker(), {}) == {
        "suggestion_text": None
    }
    idea = "pongan más luces en la costanera, mi cel 11 5555 1234"
    assert form.validate_suggestion_text(idea, CollectingDispatcher(), tracker(), {}) == {"suggestion_text": idea}
    events, messages = run(ActionSaveSuggestion(), tracker(slots={"suggestion_text": idea}, text=idea, intent="inform"))
    assert [m["response"] for m in messages] == ["utter_suggestion_saved"] and messages[0]["topic"] == "Alumbrado"
    assert {"event": "slot", "name": "suggestion_text", "value": None, "timestamp": None} in events
    from sqlalchemy import text

    from backend.db import make_engine

    engine = make_engine(env.db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT topic, text FROM suggestions")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("alumbrado", "pongan más luces en la costanera, mi cel [número]")]
