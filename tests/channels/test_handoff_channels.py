"""Live agents on Telegram and WhatsApp: signed webhooks in, the platforms' APIs faked out.

The citizen writes through the channel's webhook (Telegram's secret header, WhatsApp's
signature); an agent takes the conversation in the console (over HTTP, real backend),
writes, reads the reply, and hands back. What reaches the citizen is read from the fake
Bot API / Graph API request logs: the real channel clients made those calls.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from backend.accounts.roles import Role
from backend.console.routes_agents import HANDED_BACK
from tests.channels.conftest import new_chat_id, new_wa_id, post_telegram, post_whatsapp, tg_text, wa_text
from tests.channels.fakes import FakeServer
from tests.console.http_console import HttpConsole, create_account

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def sent_text(fake: FakeServer, mark: int, recipient: str, text: str) -> list[Any]:
    """Requests to the platform for ``recipient`` whose body carries ``text``."""

    def match(r: Any) -> bool:
        body = json.dumps(r.body, ensure_ascii=False)
        return recipient in body and text in body

    return fake.since(mark, where=match)


def _round_trip(stack: Any, fake: FakeServer, recipient: str, say: Callable[[str], None]) -> None:
    mark = fake.mark()
    say("quiero hablar con una persona")
    first = wait_for(lambda: sent_text(fake, mark, recipient, "Le comunico con una persona"), 30, "the handoff answer")
    reference = re.search(r"ATN-[A-Z0-9]{6}", json.dumps(first[0].body, ensure_ascii=False)).group(0)  # type: ignore[union-attr]

    username = f"agente{uuid.uuid4().hex[:6]}"
    create_account(stack.var_dir, username, frozenset({Role.AGENT}))
    agent = HttpConsole(stack.backend_url)
    try:
        agent.login(username)
        inbox = agent.get("/console/handoffs").text
        handoff_id = re.search(rf'href="/console/handoffs/(\d+)">Solicitud {reference}<', inbox).group(1)  # type: ignore[union-attr]
        assert agent.post(f"/console/handoffs/{handoff_id}/take", {}).status_code == 303
        mark = fake.mark()
        assert (
            agent.post(f"/console/handoffs/{handoff_id}/messages", {"text": "Hola, soy del equipo."}).status_code == 303
        )
        wait_for(lambda: sent_text(fake, mark, recipient, "Hola, soy del equipo."), 15, "the agent's message")

        mark = fake.mark()
        say("necesito un turno para el pasaporte")
        wait_for(
            lambda: "necesito un turno para el pasaporte" in agent.get(f"/console/handoffs/{handoff_id}/turns").text,
            10,
            "the citizen's reply in the console",
        )
        time.sleep(1)
        assert sent_text(fake, mark, recipient, '"text"') == []  # the bot stayed silent (typing signals aside)

        agent.get(f"/console/handoffs/{handoff_id}")
        mark = fake.mark()
        assert agent.post(f"/console/handoffs/{handoff_id}/release", {}).status_code == 303
        wait_for(lambda: sent_text(fake, mark, recipient, HANDED_BACK[:40]), 15, "the bot's 'I am back'")
    finally:
        agent.close()
    mark = fake.mark()
    say("hola")
    wait_for(lambda: sent_text(fake, mark, recipient, "asistente virtual"), 30, "the bot answering again")


def test_telegram_citizen_and_console_agent(channel_stack: Any, fake_telegram: FakeServer) -> None:
    chat = new_chat_id()

    def say(text: str) -> None:
        status, _ = post_telegram(channel_stack, tg_text(chat, text))
        assert status == 200

    _round_trip(channel_stack, fake_telegram, str(chat), say)


def test_whatsapp_citizen_and_console_agent(channel_stack: Any, fake_graph: FakeServer) -> None:
    wa_id = new_wa_id()

    def say(text: str) -> None:
        status, _ = post_whatsapp(channel_stack, wa_text(wa_id, text))
        assert status == 200

    _round_trip(channel_stack, fake_graph, wa_id, say)
