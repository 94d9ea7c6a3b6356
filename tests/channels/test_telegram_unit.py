"""Telegram pieces that need neither Rasa nor python-telegram-bot: settings and rendering."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from connectors.common import messages
from connectors.common.buttons import Choice
from connectors.common.config import ChannelConfigError
from connectors.telegram.render import PhotoPlan, TextPlan, html_chunks, keyboard, plan
from connectors.telegram.settings import TelegramSettings
from connectors.telegram.updates import decide


def test_text_is_escaped_for_html_and_split_under_the_limit() -> None:
    assert html_chunks("Costo <gratis> & rápido") == ["Costo &lt;gratis&gt; &amp; rápido"]
    text = "Línea con <b>marcas</b> & más. " * 300  # ~9300 characters
    chunks = html_chunks(text)
    assert len(chunks) == 3
    unescaped = [html.unescape(c) for c in chunks]
    assert all(len(c) <= 4096 for c in unescaped)  # the limit counts the text after parsing
    assert "<" not in "".join(chunks)
    assert " ".join(unescaped).split() == text.split()


def test_plan_of_a_message_with_buttons_image_and_source_chip() -> None:
    buttons = [{"title": "Sí", "payload": "/affirm"}, {"title": "Sitio", "url": "https://example.org"}]
    steps = plan(
        {
            "text": "¿Le sirvió?",
            "buttons": buttons,
            "image": "https://example.org/a.png",
            "custom": {"type": "kb_answer"},
        }
    )
    assert steps == [
        TextPlan("¿Le sirvió?", [Choice("Sí", "/affirm"), Choice("Sitio", "Sitio", "https://example.org")]),
        PhotoPlan("https://example.org/a.png"),
    ]
    assert plan({"custom": {"type": "kb_answer", "title": "x"}}) == []  # the chip is for the web widget
    assert plan({"buttons": [{"title": "Sí", "payload": "/affirm"}]})[0].text == "Elija una opción:"


def test_keyboard_has_one_button_per_row() -> None:
    choices = [Choice("Ver requisitos", "/x"), Choice("Sitio oficial", "Sitio oficial", "https://example.org")]
    assert keyboard(choices, ["ref:abc", None]) == {
        "inline_keyboard": [
            [{"text": "Ver requisitos", "callback_data": "ref:abc"}],
            [{"text": "Sitio oficial", "url": "https://example.org"}],
        ]
    }


def test_settings() -> None:
    assert TelegramSettings.from_env({}) is None
    settings = TelegramSettings.from_env(
        {
            "VENTANILLA_TELEGRAM_BOT_TOKEN": "123:abc-DEF",
            "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": "s3cret_-x",
            "VENTANILLA_TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/",
        }
    )
    assert settings is not None
    assert settings.bot_id == "123" and settings.bot_base_url == "http://127.0.0.1:9/bot"
    with pytest.raises(ChannelConfigError, match="WEBHOOK_SECRET"):
        TelegramSettings.from_env({"VENTANILLA_TELEGRAM_BOT_TOKEN": "123:abc"})
    with pytest.raises(ChannelConfigError, match="1 a 256"):
        TelegramSettings.from_env(
            {"VENTANILLA_TELEGRAM_BOT_TOKEN": "123:abc", "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": "con espacios"}
        )
    with pytest.raises(ChannelConfigError, match="BotFather"):
        TelegramSettings.from_env({"VENTANILLA_TELEGRAM_BOT_TOKEN": "abc", "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": "x"})


FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


@pytest.mark.parametrize(
    ("fixture", "kind", "chat_id"),
    [
        ("message_text.json", "message", "1111111"),
        ("message_text_first_example_no_chat_type.json", "message", "1111111"),
        ("callback_query.json", "button", "1111111"),
        ("edited_message.json", "reply", "1111111"),
        ("voice_message.json", "reply", "1111111"),
        ("message_with_document.json", "reply", "1111111"),
        ("inline_query.json", "ignore", None),
        ("chosen_inline_result.json", "ignore", None),
    ],
)
def test_each_example_update_gets_one_decision(fixture: str, kind: str, chat_id: str | None) -> None:
    action = decide(json.loads((FIXTURES / fixture).read_text(encoding="utf-8")))
    assert (action.kind, action.chat_id) == (kind, chat_id)


def test_decisions_for_places_groups_commands_and_inline_buttons() -> None:
    private = {"id": 5}
    venue = {"title": "Muni", "address": "Calle 1", "location": {"latitude": -34.6, "longitude": -58.4}}
    action = decide({"update_id": 1, "message": {"chat": private, "venue": venue}})
    assert action.kind == "message" and action.text and action.text.endswith(": Muni, Calle 1")
    assert action.metadata["location"]["address"] == "Calle 1"
    assert decide({"update_id": 2, "message": {"chat": {"id": -5}, "text": "hola"}}).reason == "message in a group chat"
    assert decide({"update_id": 3, "message": {"chat": private, "text": "/start@bot"}}).text == "/greet"
    press = decide(
        {"update_id": 4, "callback_query": {"id": "q", "from": {"id": 5}, "inline_message_id": "i", "data": "d"}}
    )
    assert (press.kind, press.chat_id, press.data, press.callback_query_id) == ("button", "5", "d", "q")
    assert decide({"update_id": 5, "message": {"chat": private, "voice": {}}}).text == messages.NO_AUDIO
    assert decide({"update_id": 6}).reason == "update empty"
