"""The console commands: webhook registration and long polling (run with .venv-rasa)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN, new_chat_id, next_update_id, tg_text, tracker
from tests.channels.fakes import FakeTelegram

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


def run(module: str, *args: str, fake: FakeTelegram, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "VENTANILLA_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "VENTANILLA_TELEGRAM_API_BASE_URL": fake.url,
    }
    return subprocess.run(
        [str(RASA_PY), "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_setup_webhook_registers_the_secret(fake_telegram: FakeTelegram) -> None:
    mark = fake_telegram.mark()
    url = "https://chat.example.gob/webhooks/telegram/webhook"
    result = run("connectors.telegram.setup_webhook", url, "--drop-pending", fake=fake_telegram)
    assert result.returncode == 0, result.stderr
    assert "Webhook registrado para @ventanilla_test_bot" in result.stdout
    [request] = fake_telegram.since(mark, "setWebhook")
    assert request.body == {
        "url": url,
        "secret_token": TELEGRAM_SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query"],
        "drop_pending_updates": "true",
        "max_connections": "40",
    }
    assert TELEGRAM_TOKEN not in result.stdout + result.stderr


def test_setup_webhook_refuses_plain_http(fake_telegram: FakeTelegram) -> None:
    mark = fake_telegram.mark()
    result = run(
        "connectors.telegram.setup_webhook", "http://chat.example.gob/webhooks/telegram/webhook", fake=fake_telegram
    )
    assert result.returncode == 2 and "https://" in result.stderr
    assert fake_telegram.since(mark, "setWebhook") == []


def test_polling_relays_updates_to_the_channel(channel_stack: Any, fake_telegram: FakeTelegram) -> None:
    chat = new_chat_id()
    first, second = next_update_id(), next_update_id()
    fake_telegram.pending_updates = [tg_text(chat, "hola", first), tg_text(chat, "gracias", second)]
    mark = fake_telegram.mark()
    result = run("connectors.telegram.polling", "--rasa-url", channel_stack.rasa_url, "--once", fake=fake_telegram)
    assert result.returncode == 0, result.stderr
    assert "2 actualizaciones enviadas a Rasa." in result.stdout
    assert fake_telegram.since(mark, "deleteWebhook")  # polling and a webhook cannot coexist
    polls = fake_telegram.since(mark, "getUpdates")
    assert polls[-1].body["offset"] == str(second + 1)  # both confirmed to Telegram
    users = [e["text"] for e in tracker(channel_stack, str(chat))["events"] if e["event"] == "user"]
    assert users == ["hola", "gracias"]
    replies = fake_telegram.since(mark, "sendMessage", lambda r: r.body.get("chat_id") == str(chat))
    assert replies and replies[0].body["text"].startswith("¡Hola!")
    assert fake_telegram.pending_updates == []
