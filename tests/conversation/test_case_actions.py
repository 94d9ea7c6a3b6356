"""The case actions, run directly against a real SQLite store (no Rasa server)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.cases import (
    ActionAskCaseConfirmed,
    ActionCheckCaseStatus,
    ActionListMyCases,
    ActionResetCaseForm,
    ActionSubmitCase,
    ValidateCheckStatusForm,
    ValidateListCasesForm,
    ValidateOpenCaseForm,
)
from tests.conversation.conftest import Env, tracker

FILLED = {
    "procedure": "certificado-residencia",
    "full_name": "Ana Pérez",
    "document_number": "30123456",
    "contact": "ana@correo.com",
    "data_consent": True,
}


def run(action: Any, t: Any) -> tuple[list[dict[str, Any]], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return events, [m.get("response") for m in dispatcher.messages]


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def validate_confirmed(value: str, **kwargs: Any) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    result = ValidateOpenCaseForm().validate_case_confirmed(value, dispatcher, tracker(slots=FILLED, **kwargs), {})
    return result, [m.get("response") for m in dispatcher.messages]


def test_summary_then_confirm(env: Env) -> None:
    _, responses = run(ActionAskCaseConfirmed(), tracker(slots=FILLED))
    assert responses == ["utter_case_summary"]
    result, _ = validate_confirmed("yes", text="/affirm", intent="affirm")
    assert result["case_confirmed"] == "yes"


def test_correcting_a_named_field_empties_only_that_field(env: Env) -> None:
    result, _ = validate_confirmed(
        "correct",
        text="me equivoqué en el mail",
        intent="correct_field",
        entities=[{"entity": "field", "value": "mail"}],
    )
    assert result == {"contact": None, "case_confirmed": None, "correction_pending": None}
    # Button payload: /correct_field{"field": "document_number"}
    result, _ = validate_confirmed(
        "correct", text='/correct_field{"field": "document_number"}', intent="correct_field",
        entities=[{"entity": "field", "value": "document_number"}],
    )  # fmt: skip
    assert result["document_number"] is None and "contact" not in result
    # Without the entity, the words of the message still name the field.
    result, _ = validate_confirmed("correct", text="el apellido está mal", intent="correct_field")
    assert result["full_name"] is None


def test_a_plain_no_asks_which_field(env: Env) -> None:
    result, _ = validate_confirmed("correct", text="no", intent="deny")
    assert result == {"case_confirmed": None, "correction_pending": True}
    _, responses = run(ActionAskCaseConfirmed(), tracker(slots={**FILLED, "correction_pending": True}))
    assert responses == ["utter_ask_which_field"]


def test_a_new_value_typed_at_the_summary_replaces_the_old_one(env: Env) -> None:
    result, _ = validate_confirmed(
        "inform",
        text="mejor a juana@otro.com",
        intent="inform",
        entities=[{"entity": "email", "value": "juana@otro.com"}],
    )
    assert result["contact"] == "juana@otro.com" and result["case_confirmed"] is None


def test_submit_creates_the_case_and_reset_forgets_the_data(env: Env) -> None:
    events, responses = run(
        ActionSubmitCase(), tracker(slots={**FILLED, "case_confirmed": "yes"}, text="/affirm", intent="affirm")
    )
    assert responses == ["utter_case_created"]
    code = slots_of(events)["case_code"]
    view = env.cases.status_for_citizen(code, "3456")
    assert view is not None and view.procedure_id == "certificado-residencia"
    events, _ = run(ActionResetCaseForm(), tracker(slots=FILLED))
    assert all(value is None for value in slots_of(events).values())
    assert {"full_name", "document_number", "contact", "case_confirmed"} <= set(slots_of(events))


def test_submit_refuses_without_confirmation(env: Env) -> None:
    events, responses = run(ActionSubmitCase(), tracker(slots=FILLED, text="/affirm", intent="affirm"))
    assert events == [] and responses == ["utter_technical_problem"]


def _open(env: Env, sender: str, document: str, procedure: str = "certificado-residencia") -> str:
    slots = {**FILLED, "procedure": procedure, "document_number": document, "case_confirmed": "yes"}
    events, _ = run(ActionSubmitCase(), tracker(sender=sender, slots=slots, text="/affirm", intent="affirm"))
    return slots_of(events)["case_code"]


def test_status_after_verification_and_lockout_after_three_failures(env: Env) -> None:
    code = _open(env, "s1", "30123456")
    events, responses = run(ActionCheckCaseStatus(), tracker(slots={"case_code": code, "verification": "3456"}))
    assert responses == ["utter_case_status"] and slots_of(events)["status_failures"] == 0.0

    slots: dict[str, Any] = {"status_failures": 0.0, "status_locked_until": 0.0}
    for attempt in range(1, 4):
        events, responses = run(
            ActionCheckCaseStatus(), tracker(slots={**slots, "case_code": code, "verification": "0000"})
        )
        slots.update(slots_of(events))
        if attempt < 3:
            assert responses == ["utter_case_not_verified"] and slots["status_failures"] == attempt
    assert responses == ["utter_case_locked"]
    assert slots["status_locked_until"] > time.time() + 14 * 60

    # Locked: even the right verification is not looked up, and the form asks nothing.
    events, responses = run(
        ActionCheckCaseStatus(), tracker(slots={**slots, "case_code": code, "verification": "3456"})
    )
    assert responses == ["utter_case_locked"]
    required = asyncio.run(
        ValidateCheckStatusForm().required_slots(
            ["case_code", "verification"], CollectingDispatcher(), tracker(slots=slots), {}
        )
    )
    assert required == []
    # The conversation's own clock is not what locks: the failures are counted in the case
    # store (backend/lockout.py), so a fresh slot state (a new conversation) is locked too.
    slots["status_locked_until"] = time.time() - 1
    events, responses = run(
        ActionCheckCaseStatus(), tracker(slots={**slots, "case_code": code, "verification": "3456"})
    )
    assert responses == ["utter_case_locked"]
    with sqlite3.connect(env.db_url.removeprefix("sqlite:///")) as db:  # 15 minutes later
        db.execute("UPDATE verification_attempts SET attempted_at = datetime(attempted_at, '-16 minutes')")
    events, responses = run(
        ActionCheckCaseStatus(), tracker(slots={**slots, "case_code": code, "verification": "3456"})
    )
    assert responses == ["utter_case_status"]


def test_unknown_code_and_wrong_verification_look_the_same(env: Env) -> None:
    code = _open(env, "s1", "30123456")
    _, wrong = run(ActionCheckCaseStatus(), tracker(slots={"case_code": code, "verification": "9999"}))
    _, unknown = run(ActionCheckCaseStatus(), tracker(slots={"case_code": "EXP-2026-999999", "verification": "3456"}))
    assert wrong == unknown == ["utter_case_not_verified"]


def test_my_cases_only_for_this_chat_and_this_document(env: Env) -> None:
    first = _open(env, "chat-a", "30123456")
    second = _open(env, "chat-a", "30123456", "pasaporte-emision")
    _open(env, "chat-b", "30123456")  # same document, another chat: not listed
    _open(env, "chat-a", "27999888")  # this chat, another document: not listed

    dispatcher = CollectingDispatcher()
    asyncio.run(ActionListMyCases().run(dispatcher, tracker(sender="chat-a", slots={"list_verification": "3456"}), {}))
    [message] = dispatcher.messages
    assert message["response"] == "utter_my_cases" and message["count"] == 2
    assert first in message["cases"] and second in message["cases"]

    events, responses = run(ActionListMyCases(), tracker(sender="chat-a", slots={"list_verification": "0000"}))
    assert responses == ["utter_my_cases_none"] and slots_of(events)["status_failures"] == 1.0
    locked = {"status_locked_until": time.time() + 600}
    required = asyncio.run(
        ValidateListCasesForm().required_slots(["list_verification"], CollectingDispatcher(), tracker(slots=locked), {})
    )
    assert required == []


def test_form_validators_give_clear_messages(env: Env) -> None:
    form = ValidateOpenCaseForm()
    dispatcher = CollectingDispatcher()
    t = tracker()
    assert form.validate_procedure("certificado-residencia", dispatcher, t, {}) == {
        "procedure": "certificado-residencia"
    }
    assert form.validate_procedure(["certificado de residencia"], dispatcher, t, {}) == {
        "procedure": "certificado-residencia"
    }
    assert form.validate_procedure("xyz", dispatcher, t, {}) == {"procedure": None}
    assert form.validate_document_number("mi dni es 30.123.456", dispatcher, t, {}) == {"document_number": "30123456"}
    assert form.validate_document_number("no sé", dispatcher, t, {}) == {"document_number": None}
    assert form.validate_data_consent(False, dispatcher, t, {}) == {"data_consent": None}
    responses = [m["response"] for m in dispatcher.messages]
    assert responses == ["utter_procedure_unknown", "utter_document_invalid", "utter_consent_required"]
    assert dispatcher.messages[1]["hint"]  # the profile's example of what to type
