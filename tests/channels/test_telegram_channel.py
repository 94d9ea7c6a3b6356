"""The Telegram channel inside the real Rasa server, against a fake Bot API.

Updates are posted to ``/webhooks/telegram/webhook`` as Telegram posts them; what the
channel sends back is read from the fake Bot API's request log.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from connectors.common import messages
from tests.channels.conftest import (
    FIXTURES,
    MENU_BUTTONS,
    bot_says,
    domain_response,
    intent_of,
    last_user,
    new_chat_id,
    next_update_id,
    post_telegram,
    tg_press,
    tg_text,
    tracker,
)
from tests.channels.fakes import FakeTelegram, Recorded, telegram_rate_limited, telegram_server_error

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MENU_KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Consultar un trámite", "callback_data": "/ask_procedure"}],
        [{"text": "Iniciar un trámite", "callback_data": "/open_case"}],
        [{"text": "Ver cómo va mi trámite", "callback_data": "/check_case_status"}],
    ]
}

# What the channel does with each of Telegram's example updates.
EXPECTED = {
    "callback_query.json": "processed",
    "chosen_inline_result.json": "ignored",
    "edited_message.json": "answered",
    "forwarded_channel_message.json": "processed",
    "forwarded_message.json": "processed",
    "inline_query.json": "ignored",
    "message_text.json": "processed",
    "message_text_first_example_no_chat_type.json": "processed",
    "message_with_audio.json": "answered",
    "message_with_document.json": "answered",
    "message_with_entities.json": "processed",
    "message_with_reply.json": "processed",
    "voice_message.json": "answered",
}


def sent_to(fake: FakeTelegram, mark: int, chat_id: int, method: str = "sendMessage") -> list[Recorded]:
    return fake.since(mark, method, lambda r: str(r.body.get("chat_id")) == str(chat_id))


def test_every_example_update_is_handled_or_ignored(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    assert sorted(p.name for p in (FIXTURES / "telegram").glob("*.json")) == sorted(EXPECTED)
    for name, expected in EXPECTED.items():
        update = json.loads((FIXTURES / "telegram" / name).read_text())
        update["update_id"] = next_update_id()  # the examples all share one id
        mark = fake_telegram.mark()
        status, body = post_telegram(channel_stack, update)
        assert (status, body.get("status")) == (200, expected), name
        replies = sent_to(fake_telegram, mark, 1111111)
        if expected == "ignored":
            assert replies == [], name
        else:
            assert replies, f"{name}: nothing was sent back"
            assert all(r.body["parse_mode"] == "HTML" for r in replies)
    # the chat type Telegram left out was filled in: the "/start" reached the bot as a greeting
    assert any(
        e.get("parse_data", {}).get("intent", {}).get("name") == "greet"
        for e in tracker(channel_stack, "1111111")["events"]
        if e["event"] == "user"
    )


def test_buttons_become_an_inline_keyboard(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    mark = fake_telegram.mark()
    bot_says(channel_stack, str(chat), "telegram", "¿Qué necesita?", buttons=MENU_BUTTONS)
    [sent] = sent_to(fake_telegram, mark, chat)
    assert sent.path == "/bot123456:TEST-token_for-tests/sendMessage"
    assert sent.body == {
        "chat_id": str(chat),
        "text": "¿Qué necesita?",
        "parse_mode": "HTML",
        "reply_markup": MENU_KEYBOARD,
    }


def test_start_is_a_greeting(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    mark = fake_telegram.mark()
    status, body = post_telegram(channel_stack, tg_text(chat, "/start"))
    assert (status, body["status"]) == (200, "processed")
    assert intent_of(last_user(channel_stack, str(chat))) == "greet"
    replies = sent_to(fake_telegram, mark, chat)
    assert replies[0].body == {
        "chat_id": str(chat),
        "text": html.escape(domain_response("utter_greet")["text"], quote=False),
        "parse_mode": "HTML",
    }


def test_press_on_an_inline_message_without_message_is_answered(
    channel_stack: Any, fake_telegram: FakeTelegram
) -> None:
    chat = new_chat_id()
    mark = fake_telegram.mark()
    press = tg_press(chat, "/help", inline=True)
    assert "message" not in press["callback_query"]
    status, body = post_telegram(channel_stack, press)
    assert (status, body["status"]) == (200, "processed")
    assert intent_of(last_user(channel_stack, str(chat))) == "help"
    [ack] = fake_telegram.since(mark, "answerCallbackQuery")
    assert ack.body == {"callback_query_id": press["callback_query"]["id"]}
    replies = sent_to(fake_telegram, mark, chat)  # sent to the presser's private chat
    help_response = domain_response("utter_help")
    assert replies[0].body["text"] == html.escape(help_response["text"], quote=False)
    payloads = [b["payload"] for b in help_response.get("buttons", [])]
    if payloads:
        assert [row[0]["callback_data"] for row in replies[0].body["reply_markup"]["inline_keyboard"]] == payloads
    assert ack.at <= replies[0].at  # the spinner stops before the bot answers


def test_long_payloads_travel_as_references_and_come_back(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    requirements = '/ask_procedure{"procedure": "licencia-conducir-renovacion", "kb_section": "requirements"}'
    assert len(requirements.encode()) > 64
    mark = fake_telegram.mark()
    bot_says(
        channel_stack,
        str(chat),
        "telegram",
        "¿Qué más quiere hacer?",
        buttons=[
            {"title": "Ver requisitos", "payload": requirements},
            {"title": "Hablar con una persona", "payload": "/human_handoff"},
        ],
    )
    [offer] = sent_to(fake_telegram, mark, chat)
    keyboard = offer.body["reply_markup"]["inline_keyboard"]
    reference = keyboard[0][0]["callback_data"]
    assert reference.startswith("ref:") and len(reference.encode()) <= 64
    assert keyboard == [
        [{"text": "Ver requisitos", "callback_data": reference}],
        [{"text": "Hablar con una persona", "callback_data": "/human_handoff"}],
    ]

    mark = fake_telegram.mark()
    status, body = post_telegram(channel_stack, tg_press(chat, reference))
    assert (status, body["status"]) == (200, "processed")
    latest = last_user(channel_stack, str(chat))
    assert latest["text"] == requirements  # the press reached Rasa as the full payload
    assert intent_of(latest) == "ask_procedure"
    assert {e["entity"]: e["value"] for e in latest["parse_data"]["entities"]} == {
        "procedure": "licencia-conducir-renovacion",
        "kb_section": "requirements",
    }
    assert sent_to(fake_telegram, mark, chat)  # and the bot answered
    assert len(fake_telegram.since(mark, "answerCallbackQuery")) == 1


def test_expired_button_gets_a_polite_reply(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    mark = fake_telegram.mark()
    status, body = post_telegram(channel_stack, tg_press(chat, "ref:AAAAAAAAAAAAAAAAAAAAAA"))
    assert (status, body["status"]) == (200, "answered")
    [reply] = sent_to(fake_telegram, mark, chat)
    assert reply.body["text"] == html.escape(messages.EXPIRED_OPTION, quote=False)
    assert len(fake_telegram.since(mark, "answerCallbackQuery")) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", "test-webhook-secret_12", "test-webhook-secret_1234"])
def test_missing_or_wrong_secret_is_refused_without_processing(
    channel_stack: Any, fake_telegram: FakeTelegram, secret: Any
) -> None:
    chat = new_chat_id()
    update = tg_text(chat, "hola")
    mark = fake_telegram.mark()
    status, body = post_telegram(channel_stack, update, secret=secret)
    assert status == 403 and body == {"status": "forbidden"}
    assert fake_telegram.since(mark) == []
    assert [e for e in tracker(channel_stack, str(chat))["events"] if e["event"] == "user"] == []
    # the refused update was not even remembered: delivered properly, it is processed
    status, body = post_telegram(channel_stack, update)
    assert (status, body["status"]) == (200, "processed")


def test_the_same_update_is_processed_once(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    update = tg_text(chat, "hola")
    mark = fake_telegram.mark()
    assert post_telegram(channel_stack, update)[1]["status"] == "processed"
    first = len(sent_to(fake_telegram, mark, chat))
    assert first >= 1
    assert post_telegram(channel_stack, update)[1]["status"] == "duplicate"
    assert len(sent_to(fake_telegram, mark, chat)) == first
    assert len([e for e in tracker(channel_stack, str(chat))["events"] if e["event"] == "user"]) == 1


def test_group_messages_and_typed_intents(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    group = -100123456
    update = tg_text(group, "hola")
    update["message"]["chat"] = {"id": group, "type": "supergroup", "title": "Vecinos"}
    mark = fake_telegram.mark()
    assert post_telegram(channel_stack, update)[1]["status"] == "ignored"
    assert fake_telegram.since(mark) == []

    chat = new_chat_id()
    post_telegram(channel_stack, tg_text(chat, '/open_case{"procedure": "pasaporte-emision"}'))
    [said] = [e for e in tracker(channel_stack, str(chat))["events"] if e["event"] == "user"]
    assert said["text"] == 'open_case{"procedure": "pasaporte-emision"}'  # typed text never becomes an intent payload
    assert said["parse_data"]["entities"] == [] or all(e.get("extractor") for e in said["parse_data"]["entities"])


def test_long_text_is_split_and_escaped_with_the_keyboard_last(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    text = " ".join(f"Paso {i}: presente el <formulario> & la copia." for i in range(200))  # ~9000 characters
    mark = fake_telegram.mark()
    bot_says(channel_stack, str(chat), "telegram", text, buttons=[{"title": "Sí", "payload": "/affirm"}])
    parts = sent_to(fake_telegram, mark, chat)
    assert len(parts) == 3
    assert ["reply_markup" in p.body for p in parts] == [False, False, True]
    assert parts[-1].body["reply_markup"] == {"inline_keyboard": [[{"text": "Sí", "callback_data": "/affirm"}]]}
    assert all(len(html.unescape(p.body["text"])) <= 4096 and "<" not in p.body["text"] for p in parts)
    assert " ".join(html.unescape(p.body["text"]) for p in parts).split() == text.split()


def test_rate_limit_is_waited_out(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    fake_telegram.fail_next("sendMessage", telegram_rate_limited(1))
    mark = fake_telegram.mark()
    bot_says(channel_stack, str(chat), "telegram", "Su turno quedó confirmado.")
    first, second = sent_to(fake_telegram, mark, chat)
    assert first.body == second.body
    assert second.at - first.at >= 1.0  # Telegram asked for 1 s


def test_server_errors_are_retried_with_backoff(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    fake_telegram.fail_next("sendMessage", telegram_server_error(), telegram_server_error())
    mark = fake_telegram.mark()
    bot_says(channel_stack, str(chat), "telegram", "Su turno quedó confirmado.")
    first, second, third = sent_to(fake_telegram, mark, chat)
    assert first.body == second.body == third.body
    assert second.at - first.at >= 0.5 and third.at - second.at >= 1.0  # 0.5 s, then 1 s


def test_failed_sends_never_become_a_5xx(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    fake_telegram.fail_next("sendMessage", *[telegram_server_error()] * 4)
    status, body = post_telegram(channel_stack, tg_text(chat, "hola"))
    assert status == 200 and body["status"] == "error"


def test_updates_python_telegram_bot_cannot_parse_are_still_handled(
    channel_stack: Any, fake_telegram: FakeTelegram
) -> None:
    chat = new_chat_id()
    odd = tg_text(chat, "hola")
    odd["message"]["date"] = "ayer"  # not a Unix time: python-telegram-bot's types refuse it
    mark = fake_telegram.mark()
    status, body = post_telegram(channel_stack, odd)
    assert (status, body["status"]) == (200, "processed")
    assert sent_to(fake_telegram, mark, chat)
    status, body = post_telegram(channel_stack, {"update_id": next_update_id(), "message": "no es un mensaje"})
    assert (status, body["status"]) == (200, "ignored")
    status, body = post_telegram(channel_stack, {"no": "update"})
    assert status == 400
