"""Items 4 and 5: Rasa killed mid-conversation; duplicated and concurrent webhook deliveries.

Item 4 pass criterion: after SIGKILL and a restart of the Rasa server (SQL tracker
store), the conversation has its slots and its active form, and the next message
continues the form where it was.

Item 5 pass criterion: the same Telegram update or WhatsApp message delivered several
times at once, again after a Rasa restart, and to two Rasa servers sharing Redis,
reaches the bot once (one user event with that id), is answered once (no reply text
sent twice) and opens one case.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from tests.channels.conftest import (
    new_chat_id,
    new_wa_id,
    next_message_id,
    post_telegram,
    post_whatsapp,
    tg_text,
    wa_text,
)
from tests.channels.fakes import FakeGraph, FakeTelegram
from tests.reliability.conftest import direct_case_db_url
from tests.reliability.helpers import new_sender, say, texts

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CODE_RE = re.compile(r"EXP-\d{4}-\d{6}")
NAME = "Eulalia Ferreyra"


class _At:
    """The stack as seen by the channel helpers, at another Rasa server's URL."""

    def __init__(self, rasa_url: str) -> None:
        self.rasa_url = rasa_url


def tracker(stack: Any, sender: str) -> dict[str, Any]:
    import urllib.request

    url = f"{stack.rasa_url}/conversations/{urllib.parse.quote(sender)}/tracker?token={stack.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def user_events(stack: Any, sender: str, message_id: str) -> int:
    return sum(
        1 for e in tracker(stack, sender)["events"] if e["event"] == "user" and e.get("message_id") == message_id
    )


def at_once(deliver: Callable[[], Any], times: int) -> list[Any]:
    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(lambda _: deliver(), range(times)))


def tg_replies(fake: FakeTelegram, mark: int, chat_id: int) -> list[str]:
    return [
        r.body.get("text", "")
        for r in fake.since(mark, "sendMessage", lambda r: str(r.body.get("chat_id")) == str(chat_id))
    ]


def wa_replies(fake: FakeGraph, mark: int, wa_id: str) -> list[str]:
    return [
        json.dumps(r.body, ensure_ascii=False)
        for r in fake.since(mark, "messages", lambda r: r.body.get("to") == wa_id)
    ]


def cases_count(case_database: str) -> int:
    with psycopg.connect(direct_case_db_url(case_database)) as conn:
        return int(conn.execute("SELECT count(*) FROM cases").fetchone()[0])  # type: ignore[index]


def wa_form_to_summary(stack: Any, wa_id: str) -> None:
    for text in (
        "quiero iniciar un trámite",
        "certificado de residencia",
        f"me llamo {NAME}",
        "mi dni es 28765432",
        "eulalia@correo.com",
        "sí, acepto",
    ):
        status, _ = post_whatsapp(stack, wa_text(wa_id, text))
        assert status == 200


def test_duplicate_deliveries_at_once_reach_the_bot_once_and_open_one_case(
    fault_stack: Any, fake_telegram: FakeTelegram, fake_graph: FakeGraph, case_database: str
) -> None:
    chat = new_chat_id()
    update = tg_text(chat, "hola")
    mark = fake_telegram.mark()
    statuses = at_once(lambda: post_telegram(fault_stack, update)[0], 5)
    assert statuses == [200] * 5
    assert user_events(fault_stack, str(chat), str(update["update_id"])) == 1
    replies = tg_replies(fake_telegram, mark, chat)
    assert replies and len(replies) == len(set(replies)), replies

    wa_id = new_wa_id()
    wa_form_to_summary(fault_stack, wa_id)
    before = cases_count(case_database)
    confirm = wa_text(wa_id, "confirmo", next_message_id())
    mark = fake_graph.mark()
    assert at_once(lambda: post_whatsapp(fault_stack, confirm)[0], 4) == [200] * 4
    assert cases_count(case_database) == before + 1
    created = [r for r in wa_replies(fake_graph, mark, wa_id) if CODE_RE.search(r)]
    assert len(created) == 1, created


def test_rasa_sigkill_mid_form_keeps_the_conversation_and_redeliveries_stay_deduplicated(
    fault_stack: Any, fake_telegram: FakeTelegram, fake_graph: FakeGraph
) -> None:
    sender = new_sender("kill")
    for text, expected in (
        ("quiero iniciar un trámite", "qué trámite"),
        ("certificado de residencia", "nombre"),
        (f"me llamo {NAME}", "documento"),
    ):
        status, messages, _ = say(fault_stack.rasa_url, sender, text)
        assert status == 200 and expected in texts(messages).lower(), messages
    chat, wa_id = new_chat_id(), new_wa_id()
    update, message = tg_text(chat, "hola"), wa_text(wa_id, "hola")
    assert post_telegram(fault_stack, update)[0] == 200 and post_whatsapp(fault_stack, message)[0] == 200

    fault_stack.kill("rasa", signal.SIGKILL)
    fault_stack.restart_rasa()

    state = tracker(fault_stack, sender)
    assert (state.get("active_loop") or {}).get("name") == "open_case_form", state.get("active_loop")
    assert state["slots"]["procedure"] == "certificado-residencia"
    assert state["slots"]["full_name"] == NAME
    assert state["slots"]["requested_slot"] == "document_number"
    status, messages, _ = say(fault_stack.rasa_url, sender, "mi dni es 30111222")
    assert status == 200 and "correo" in texts(messages).lower(), messages  # the form goes on

    marks = fake_telegram.mark(), fake_graph.mark()
    assert post_telegram(fault_stack, update)[0] == 200 and post_whatsapp(fault_stack, message)[0] == 200
    assert tg_replies(fake_telegram, marks[0], chat) == [] and wa_replies(fake_graph, marks[1], wa_id) == []
    assert user_events(fault_stack, str(chat), str(update["update_id"])) == 1
    wa_message_id = message["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert user_events(fault_stack, wa_id, wa_message_id) == 1


def test_two_rasa_servers_with_redis_process_each_delivery_once(
    fault_stack: Any, fake_telegram: FakeTelegram, fake_graph: FakeGraph, case_database: str
) -> None:
    servers = [fault_stack, _At(fault_stack.start_extra_rasa())]
    chat = new_chat_id()
    update = tg_text(chat, "hola")
    mark = fake_telegram.mark()
    statuses = at_once(lambda: [post_telegram(s, update)[0] for s in servers], 3)
    assert statuses == [[200, 200]] * 3
    assert user_events(fault_stack, str(chat), str(update["update_id"])) == 1
    replies = tg_replies(fake_telegram, mark, chat)
    assert replies and len(replies) == len(set(replies)), replies

    wa_id = new_wa_id()
    wa_form_to_summary(fault_stack, wa_id)
    before = cases_count(case_database)
    confirm = wa_text(wa_id, "confirmo", next_message_id())
    mark = fake_graph.mark()
    at_once(lambda: [post_whatsapp(s, confirm)[0] for s in servers], 2)
    assert cases_count(case_database) == before + 1
    assert len([r for r in wa_replies(fake_graph, mark, wa_id) if CODE_RE.search(r)]) == 1
