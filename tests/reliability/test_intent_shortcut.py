"""Item 7: the ``/intent{...}`` shortcut is not a citizen's way around the NLU.

Pass criterion: on REST, socket.io, Telegram (typed text and forged button data) and
WhatsApp (typed text and forged button ids), a message such as
``/case_status_changed{...}`` (an internal intent), ``/inform{"document_number": ...}``
(filling a slot) or ``/restart`` (resetting the conversation and its counters) reaches
Rasa as text for the NLU: the user event's text does not start with ``/``, its intent
is not the one named, no entity it named is set, and the internal intent's answer is
not given. Every payload our own buttons send still passes, and the backend's
``trigger_intent`` notification (Rasa's authenticated HTTP API) still works.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.common.intents import allowed_payload, citizen_text
from tests.conftest import RestChat, texts
from tests.reliability.socketio_client import SocketChat

ROOT = Path(__file__).resolve().parents[2]
FORGED = [
    '/case_status_changed{"notified_case_code": "EXP-2026-000777", "notified_status": "aprobado"}',
    '/inform{"document_number": "30123456", "case_code": "EXP-2026-000777"}',
    '/check_case_status{"case_code": "EXP-2026-000777", "verification": "1234"}',
    "/affirm@1.0",
    "/restart",
    "/session_start",
    '/open_case{"procedure": {"x": 1}}',
    '/ask_procedure{"procedure": "pasaporte-emision"}trailing',
]
NOTICE = "Hay novedades en su trámite"


def domain_payloads() -> list[str]:
    """Every button payload in the domain and in the actions, as the channels receive it."""
    found = []
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        for variants in ((yaml.safe_load(path.read_text()) or {}).get("responses") or {}).values():
            for variant in variants:
                for button in variant.get("buttons") or []:
                    payload = button["payload"].replace("{procedure_id}", "pasaporte-emision")
                    found.append(payload.replace("{{", "{").replace("}}", "}"))
    found += ['/ask_procedure{"procedure": "pasaporte-emision"}', "/human_handoff", '/feedback{"rating": "4"}']
    return found


def test_every_button_payload_passes_and_forged_ones_become_text() -> None:
    payloads = domain_payloads()
    assert len(payloads) > 20
    for payload in payloads:
        assert allowed_payload(payload) and citizen_text(payload) == payload, payload
    for forged in FORGED:
        assert not citizen_text(forged).startswith("/"), forged


INTERNAL = {"case_status_changed", "restart", "session_start"}


def _check_user_event(event: dict[str, Any], forged: str) -> None:
    """The forged payload reached Rasa as text for the NLU, not as an intent with entities."""
    assert not event["text"].startswith("/"), event["text"]
    named = forged[1:].split("{")[0].split("@")[0]
    if named in INTERNAL:
        assert event["parse_data"]["intent"]["name"] != named, event["parse_data"]["intent"]
    entities = event["parse_data"].get("entities") or []
    assert not [e for e in entities if e["entity"] in ("notified_case_code", "notified_status")], entities
    # Entities the NLU finds in the text carry their extractor; a payload's entities carry none.
    assert all(e.get("extractor") for e in entities), entities


def tracker(stack: Any, sender: str) -> dict[str, Any]:
    url = f"{stack.rasa_url}/conversations/{urllib.parse.quote(sender)}/tracker?token={stack.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def last_user(stack: Any, sender: str) -> dict[str, Any]:
    return [e for e in tracker(stack, sender)["events"] if e["event"] == "user"][-1]


@pytest.mark.e2e
@pytest.mark.slow
def test_rest_and_socketio_read_forged_payloads_as_text(stack: Any) -> None:
    for forged in FORGED:
        chat = RestChat(stack.rasa_url)
        reply = texts(chat.say(forged))
        assert NOTICE not in reply
        _check_user_event(last_user(stack, chat.sender), forged)

    async def over_socket() -> None:
        async with SocketChat(stack.rasa_url) as chat:
            await chat.start_session(uuid.uuid4().hex)
            for forged in FORGED[:3]:
                replies = await chat.say(forged)
                assert replies and NOTICE not in " ".join(str(r.get("text")) for r in replies)
                _check_user_event(last_user(stack, chat.session_id), forged)
            # a real button payload still works as a button
            await chat.say("/check_case_status")
            assert last_user(stack, chat.session_id)["parse_data"]["intent"]["name"] == "check_case_status"

    asyncio.run(over_socket())


@pytest.mark.e2e
@pytest.mark.slow
def test_backend_trigger_intent_still_reaches_the_conversation(stack: Any) -> None:
    chat = RestChat(stack.rasa_url)
    chat.say("hola")
    query = urllib.parse.urlencode({"output_channel": "latest", "token": stack.rasa_token})
    body = {
        "name": "case_status_changed",
        "entities": {"notified_case_code": "EXP-2026-000777", "notified_status": "aprobado"},
    }
    request = urllib.request.Request(
        f"{stack.rasa_url}/conversations/{chat.sender}/trigger_intent?{query}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert NOTICE in " ".join(m.get("text", "") for m in answer["messages"]), answer
