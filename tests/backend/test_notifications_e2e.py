"""Acceptance: a status change made through the staff API reaches the citizen's channel once.

The whole system runs for real (launcher.stack: backend with its dispatcher, action
server, Rasa with the trained test model). The "channel" is Rasa's callback channel
(mounted because VENTANILLA_CALLBACK_URL is set): Rasa POSTs every bot message to a
receiving server in this test. The citizen opens a case by talking to the callback
webhook; an officer changes its status through the staff API; the receiver must get
the notification exactly once, also when it was down for the first attempts.

The stack is the session's ``channel_stack`` (tests/conftest.py), shared with the channel
tests: its action server uses the HTTP case repository (VENTANILLA_CASE_REPOSITORY=http),
the session ``stack`` the SQL one.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.conftest import ADMIN_TOKEN, OFFICER_TOKEN
from tests.backend.recorder import RecordingServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CODE_RE = re.compile(r"EXP-\d{4}-\d{6}")
OFFICER = {"Authorization": f"Bearer {OFFICER_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def receiver(callback_receiver: RecordingServer) -> RecordingServer:
    return callback_receiver


@pytest.fixture
def notify_stack(channel_stack: Any) -> Any:
    return channel_stack


def _messages_for(receiver: RecordingServer, sender: str) -> list[dict[str, Any]]:
    return [c.body for c in receiver.delivered() if c.body.get("recipient_id") == sender]


class CallbackCitizen:
    """A citizen writing to Rasa's callback webhook; the bot's answers arrive at the receiver."""

    def __init__(self, rasa_url: str, receiver: RecordingServer) -> None:
        self.url = f"{rasa_url}/webhooks/callback/webhook"
        self.receiver = receiver
        self.sender = f"callback-citizen-{uuid.uuid4().hex[:10]}"

    def say(self, text: str) -> list[dict[str, Any]]:
        before = len(_messages_for(self.receiver, self.sender))
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=90) as response:  # returns once the bot has answered
            assert response.status == 200
        return _messages_for(self.receiver, self.sender)[before:]


# What the citizen answers to each question of the open-case form, recognised by its
# wording; any question offering an "/affirm" button (privacy notice, summary) is accepted.
ANSWERS: list[tuple[str, str]] = [
    ("qué trámite", '/inform{"procedure": "certificado-residencia"}'),
    ("nombre", "Ana María Pérez"),
    ("documento", "30123456"),
    ("correo", "ana.perez@correo.com"),
]


def open_case(citizen: CallbackCitizen) -> str:
    replies = citizen.say("quiero iniciar un trámite")
    for _ in range(10):
        text = "\n".join(m.get("text", "") for m in replies)
        match = CODE_RE.search(text)
        if match:
            return match.group(0)
        payloads = [b.get("payload", "") for m in replies for b in m.get("buttons", [])]
        if any(p.startswith("/affirm") for p in payloads):
            replies = citizen.say("/affirm")
            continue
        answer = next((a for key, a in ANSWERS if key in text.lower()), None)
        assert answer is not None, f"unexpected question in the open-case form: {text!r}"
        replies = citizen.say(answer)
    raise AssertionError("the case was not created within 10 turns")


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def notifications_of(stack: Any, code: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{stack.backend_url}/staff/notifications", params={"case": code}, headers=ADMIN, timeout=10)
    response.raise_for_status()
    return list(response.json())


def notification_messages(receiver: RecordingServer, citizen: CallbackCitizen, code: str) -> list[dict[str, Any]]:
    return [
        m
        for m in _messages_for(receiver, citizen.sender)
        if code in m.get("text", "") and "novedades" in m.get("text", "")
    ]


def test_status_change_reaches_the_channel_once_even_if_it_was_down_first(
    notify_stack: Any, receiver: RecordingServer
) -> None:
    citizen = CallbackCitizen(notify_stack.rasa_url, receiver)
    code = open_case(citizen)

    receiver.stop()  # the receiving side goes down: Rasa cannot deliver, so it answers 500
    try:
        response = httpx.post(
            f"{notify_stack.backend_url}/staff/cases/{code}/status",
            json={"status": "en_revision", "note": "Documentación completa"},
            headers=OFFICER,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        wait_for(
            lambda: any(n["attempts"] >= 2 for n in notifications_of(notify_stack, code)), 60, "two failed attempts"
        )
        [pending] = notifications_of(notify_stack, code)
        assert pending["state"] in ("pending", "in_progress") and pending["last_error"] == "HTTP 500"
    finally:
        receiver.start()  # back on the same port

    wait_for(lambda: notification_messages(receiver, citizen, code), 60, "the notification")
    time.sleep(3)  # several more dispatcher rounds: nothing else may arrive
    [message] = notification_messages(receiver, citizen, code)
    assert "en revisión" in message["text"] and message["recipient_id"] == citizen.sender
    assert [b["title"] for b in message.get("buttons", [])] == ["Ver estado"]
    [row] = notifications_of(notify_stack, code)
    assert row["state"] == "delivered" and row["attempts"] >= 3

    # A second change is a second notification, again exactly once.
    httpx.post(
        f"{notify_stack.backend_url}/staff/cases/{code}/status",
        json={"status": "aprobado"},
        headers=OFFICER,
        timeout=30,
    ).raise_for_status()
    wait_for(
        lambda: [m for m in notification_messages(receiver, citizen, code) if "aprobado" in m["text"]],
        60,
        "the second notification",
    )
    time.sleep(2)
    assert len(notification_messages(receiver, citizen, code)) == 2


def test_a_citizen_in_the_middle_of_a_form_is_told_after_it(notify_stack: Any, receiver: RecordingServer) -> None:
    citizen = CallbackCitizen(notify_stack.rasa_url, receiver)
    code = open_case(citizen)
    assert "qué trámite" in " ".join(m.get("text", "") for m in citizen.say("quiero iniciar otro trámite")).lower()

    httpx.post(
        f"{notify_stack.backend_url}/staff/cases/{code}/status",
        json={"status": "en_revision"},
        headers=OFFICER,
        timeout=30,
    ).raise_for_status()
    wait_for(
        lambda: any((n["last_error"] or "").startswith("deferred") for n in notifications_of(notify_stack, code)),
        30,
        "the dispatcher to see the open form",
    )
    time.sleep(1.5)
    assert notification_messages(receiver, citizen, code) == []  # the form is not interrupted
    [row] = notifications_of(notify_stack, code)
    assert row["attempts"] == 0 and row["state"] in ("pending", "in_progress")

    citizen.say("/cancel")  # the citizen leaves the form
    wait_for(lambda: notification_messages(receiver, citizen, code), 30, "the notification after the form")
    time.sleep(1.5)
    assert len(notification_messages(receiver, citizen, code)) == 1


def test_status_change_reaches_the_channel_once_even_if_it_answered_5xx_first(
    notify_stack: Any, receiver: RecordingServer
) -> None:
    citizen = CallbackCitizen(notify_stack.rasa_url, receiver)
    code = open_case(citizen)
    receiver.fail_next, receiver.fail_status = 2, 503
    httpx.post(
        f"{notify_stack.backend_url}/staff/cases/{code}/status",
        json={"status": "en_revision"},
        headers=OFFICER,
        timeout=30,
    ).raise_for_status()
    try:
        wait_for(lambda: notification_messages(receiver, citizen, code), 15, "the notification")
    finally:
        receiver.fail_next = 0
    time.sleep(2)
    assert len(notification_messages(receiver, citizen, code)) == 1


def test_a_case_officer_changes_a_status_in_the_console_and_the_citizen_is_told(
    notify_stack: Any, receiver: RecordingServer
) -> None:
    """Issue 16's acceptance: the console (not the JSON API) moves the case; only a case officer may."""
    from backend.accounts.roles import Role
    from tests.console.http_console import HttpConsole, create_account

    citizen = CallbackCitizen(notify_stack.rasa_url, receiver)
    code = open_case(citizen)
    suffix = uuid.uuid4().hex[:6]
    create_account(notify_stack.var_dir, f"oficial{suffix}", frozenset({Role.CASE_OFFICER}))
    create_account(notify_stack.var_dir, f"agente{suffix}", frozenset({Role.AGENT, Role.EDITOR}))

    outsider = HttpConsole(notify_stack.backend_url)
    officer = HttpConsole(notify_stack.backend_url)
    try:
        outsider.login(f"agente{suffix}")
        outsider.get("/console")
        refused = outsider.post(f"/console/cases/{code}/status", {"status": "en_revision", "note": "No me toca"})
        assert refused.status_code == 403

        officer.login(f"oficial{suffix}")
        page = officer.get(f"/console/cases/{code}")
        assert page.status_code == 200 and "Ana María Pérez" in page.text
        done = officer.post(
            f"/console/cases/{code}/status", {"status": "en_revision", "note": "Documentación completa"}
        )
        assert done.status_code == 303, done.text[:500]
    finally:
        outsider.close()
        officer.close()

    wait_for(lambda: notification_messages(receiver, citizen, code), 60, "the notification")
    time.sleep(1.5)
    [message] = notification_messages(receiver, citizen, code)
    assert "en revisión" in message["text"] and message["recipient_id"] == citizen.sender
    [row] = notifications_of(notify_stack, code)
    assert row["state"] == "delivered"


def test_an_agent_takes_a_conversation_in_the_console_and_hands_it_back(
    notify_stack: Any, receiver: RecordingServer
) -> None:
    """Issue 16's live agents on the real stack: Rasa pauses, relays both ways, resumes.

    The citizen's channel is Rasa's callback channel (the receiver); the agent works in
    the console over HTTP. Telegram/WhatsApp/widget use the same Rasa call with their
    own output channel (not covered here).
    """
    from backend.accounts.roles import Role
    from backend.console.routes_agents import HANDED_BACK
    from tests.console.http_console import HttpConsole, create_account

    citizen = CallbackCitizen(notify_stack.rasa_url, receiver)
    asked = "\n".join(m.get("text", "") for m in citizen.say("quiero hablar con una persona"))
    assert "Le comunico con una persona" in asked, asked
    reference = re.search(r"ATN-[A-Z0-9]{6}", asked).group(0)  # type: ignore[union-attr]
    assert citizen.say("hola? sigue ahí?") == []  # paused: the bot stays silent

    suffix = uuid.uuid4().hex[:6]
    create_account(notify_stack.var_dir, f"agente1{suffix}", frozenset({Role.AGENT}))
    create_account(notify_stack.var_dir, f"agente2{suffix}", frozenset({Role.AGENT}))
    agent, other = HttpConsole(notify_stack.backend_url), HttpConsole(notify_stack.backend_url)
    try:
        agent.login(f"agente1{suffix}")
        other.login(f"agente2{suffix}")
        inbox = agent.get("/console/handoffs").text
        handoff_id = re.search(rf'href="/console/handoffs/(\d+)">Solicitud {reference}<', inbox).group(1)  # type: ignore[union-attr]
        assert agent.post(f"/console/handoffs/{handoff_id}/take", {}).status_code == 303
        other.get("/console/handoffs")
        assert other.post(f"/console/handoffs/{handoff_id}/take", {}).status_code == 409

        agent.get(f"/console/handoffs/{handoff_id}")
        sent = agent.post(
            f"/console/handoffs/{handoff_id}/messages", {"text": "Hola, soy del equipo. ¿En qué le ayudo?"}
        )
        assert sent.status_code == 303, sent.text[:500]
        wait_for(
            lambda: [m for m in _messages_for(receiver, citizen.sender) if "soy del equipo" in m.get("text", "")],
            15,
            "the agent's message on the citizen's channel",
        )
        assert citizen.say("necesito un turno para el pasaporte") == []  # still paused
        wait_for(
            lambda: "necesito un turno para el pasaporte" in agent.get(f"/console/handoffs/{handoff_id}/turns").text,
            10,
            "the citizen's reply in the console",
        )

        agent.get(f"/console/handoffs/{handoff_id}")
        assert agent.post(f"/console/handoffs/{handoff_id}/release", {}).status_code == 303
        wait_for(
            lambda: [m for m in _messages_for(receiver, citizen.sender) if m.get("text") == HANDED_BACK],
            15,
            "the bot telling the citizen it is back",
        )
    finally:
        agent.close()
        other.close()
    answer = "\n".join(m.get("text", "") for m in citizen.say("hola"))
    assert "asistente virtual" in answer, answer  # the bot answers again


def test_channel_user_ids_are_never_logged(notify_stack: Any) -> None:
    """Runs last in this module: every callback citizen above has talked to the bot by now."""
    backend_log = (Path(notify_stack.var_dir) / "logs" / "backend.log").read_text(errors="replace")
    assert "callback-citizen-" not in backend_log
