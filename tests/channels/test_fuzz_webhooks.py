"""Item 6: the Telegram and WhatsApp webhooks fuzzed (tests/RELIABILITY.md).

Pass criterion: no 5xx and no crash for anything posted to them, signed or not, well
formed or not; text that reaches the bot gets no reply repeating markup unescaped
(Telegram replies are HTML: the channel must escape). Counts go to
``var/fuzz-counts.json``.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from connectors.whatsapp.webhook import sign
from tests.channels.conftest import (
    TELEGRAM_SECRET,
    WA_APP_SECRET,
    http,
    new_chat_id,
    new_wa_id,
    next_update_id,
    post_telegram,
    post_whatsapp,
    tg_text,
    wa_message,
    wa_text,
)
from tests.channels.fakes import FakeGraph, FakeTelegram
from tests.reliability.counts import record_counts
from tests.reliability.fuzzing import CONTENT_TYPES, MARKUP, json_values, malformed_bodies, texts

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = settings(
    deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck), phases=[Phase.generate]
)


def _telegram(stack: Any, body: bytes, secret: str | None, content_type: str) -> int:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return http("POST", f"{stack.rasa_url}/webhooks/telegram/webhook", body, headers)[0]


def _whatsapp(stack: Any, body: bytes, signature: str | None, content_type: str) -> int:
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return http("POST", f"{stack.rasa_url}/webhooks/whatsapp/webhook", body, headers)[0]


def test_malformed_webhook_posts_never_get_a_5xx(channel_stack: Any) -> None:
    counts: Counter[str] = Counter()
    update_shapes = st.builds(lambda v: {"update_id": next_update_id(), "message": v}, json_values) | st.builds(
        lambda v: {"update_id": next_update_id(), **v} if isinstance(v, dict) else {"update_id": next_update_id()},
        json_values,
    )

    @given(
        body=malformed_bodies | update_shapes.map(lambda u: json.dumps(u).encode()),
        secret=st.sampled_from([TELEGRAM_SECRET, None, "wrong", ""]),
        signed=st.sampled_from(["good", "none", "sha1", "bad"]),
        content_type=st.sampled_from(CONTENT_TYPES),
    )
    @settings(FAST, max_examples=700)
    def send(body: bytes, secret: str | None, signed: str, content_type: str) -> None:
        status = _telegram(channel_stack, body, secret, content_type)
        signature = {"good": sign(body, WA_APP_SECRET), "none": None, "sha1": "sha1=00", "bad": "sha256=00"}[signed]
        wa_status = _whatsapp(channel_stack, body, signature, content_type)
        counts["inputs"] += 2
        counts["5xx"] += (status >= 500) + (wa_status >= 500)
        assert status < 500 and wa_status < 500, (status, wa_status, body[:200])

    try:
        send()
    finally:
        record_counts("Telegram and WhatsApp webhooks, malformed posts", counts["inputs"], counts["5xx"])


def test_fuzzed_texts_reach_the_bot_and_replies_escape_markup(
    channel_stack: Any, fake_telegram: FakeTelegram, fake_graph: FakeGraph
) -> None:
    counts: Counter[str] = Counter()

    @given(text=texts, wa_kind=st.sampled_from(["text", "button", "list"]))
    @settings(FAST, max_examples=120)
    def send(text: str, wa_kind: str) -> None:
        chat, wa_id = new_chat_id(), new_wa_id()
        mark = fake_telegram.mark()
        status, _ = post_telegram(channel_stack, tg_text(chat, text))
        assert status == 200
        for reply in fake_telegram.since(mark, "sendMessage", lambda r: str(r.body.get("chat_id")) == str(chat)):
            lowered = str(reply.body.get("text", "")).lower()
            assert not [m for m in MARKUP if m.startswith("<") and m in lowered], reply.body  # HTML parse mode
        if wa_kind == "text":
            payload = wa_text(wa_id, text)
        else:
            reply_type = "button_reply" if wa_kind == "button" else "list_reply"
            message = {
                "type": "interactive",
                "interactive": {"type": reply_type, reply_type: {"id": text[:256] or "x", "title": "t"}},
            }
            payload = wa_message(wa_id, message)
        wa_status, _ = post_whatsapp(channel_stack, payload)
        counts["inputs"] += 2
        counts["5xx"] += (status >= 500) + (wa_status >= 500)
        assert wa_status == 200

    try:
        send()
    finally:
        record_counts("Telegram and WhatsApp webhooks, messages to the bot", counts["inputs"], counts["5xx"])
    assert post_telegram(channel_stack, tg_text(random.randrange(10**8, 10**9), "hola"))[0] == 200
