"""Talking to the channel stack: Telegram updates and WhatsApp messages, signed and sent.

The stack itself (``channel_stack``, with the fake Bot API and Graph API servers) is a
session fixture of tests/conftest.py: the notification tests share it, so it starts once.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from connectors.whatsapp.webhook import sign
from tests.channels.fakes import FakeGraph, FakeTelegram

TELEGRAM_TOKEN = "123456:TEST-token_for-tests"
TELEGRAM_SECRET = "test-webhook-secret_123"
WA_ACCESS_TOKEN = "EAA-test-access-token"
WA_APP_SECRET = "test-app-secret"
WA_VERIFY_TOKEN = "verify-token-123"
WA_PHONE_ID = "1122334455667"
WA_TEMPLATE = "ventanilla_novedad"
FIXTURES = Path(__file__).parent / "fixtures"

_update_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)
_message_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


def next_message_id() -> str:
    return f"wamid.test{next(_message_ids)}-{random.randrange(10**9)}"


def new_chat_id() -> int:
    return random.randrange(10**8, 10**9)


def new_wa_id() -> str:
    return f"549{random.randrange(10**9, 10**10)}"


def channel_env(fake_telegram: FakeTelegram, fake_graph: FakeGraph) -> dict[str, str]:
    return {
        "VENTANILLA_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "VENTANILLA_TELEGRAM_API_BASE_URL": fake_telegram.url,
        "VENTANILLA_WHATSAPP_ACCESS_TOKEN": WA_ACCESS_TOKEN,
        "VENTANILLA_WHATSAPP_APP_SECRET": WA_APP_SECRET,
        "VENTANILLA_WHATSAPP_VERIFY_TOKEN": WA_VERIFY_TOKEN,
        "VENTANILLA_WHATSAPP_PHONE_NUMBER_ID": WA_PHONE_ID,
        "VENTANILLA_WHATSAPP_API_BASE_URL": f"{fake_graph.url}/v23.0",
        "VENTANILLA_WHATSAPP_TEMPLATE_NAME": WA_TEMPLATE,
        "VENTANILLA_WHATSAPP_TEMPLATE_LANGUAGE": "es",
    }


# --- talking to the stack ----------------------------------------------------------------


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_telegram(
    stack: Any, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    status, body = http("POST", f"{stack.rasa_url}/webhooks/telegram/webhook", json.dumps(update).encode(), headers)
    return status, json.loads(body or b"{}")


def post_whatsapp(
    stack: Any,
    payload: Any,
    *,
    secret: str = WA_APP_SECRET,
    signature: str | None = "auto",
    raw: bytes | None = None,
) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Hub-Signature-256"] = sign(data, secret)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    status, body = http("POST", f"{stack.rasa_url}/webhooks/whatsapp/webhook", data, headers)
    try:
        return status, json.loads(body or b"{}")
    except ValueError:
        return status, {"raw": body.decode(errors="replace")}


def bot_says(stack: Any, sender: str, channel: str, text: str, **data: Any) -> None:
    """Makes Rasa send a bot message through ``channel``'s output channel, the way
    notifications and other proactive messages reach it (Rasa's HTTP API)."""
    event = {"event": "bot", "text": text, "data": data, "timestamp": time.time()}
    query = urllib.parse.urlencode(
        {"output_channel": channel, "execute_side_effects": "true", "token": stack.rasa_token}
    )
    url = f"{stack.rasa_url}/conversations/{urllib.parse.quote(sender)}/tracker/events?{query}"
    status, body = http("POST", url, json.dumps([event]).encode(), {"Content-Type": "application/json"})
    assert status == 200, body[:500]


def tracker(stack: Any, sender: str) -> dict[str, Any]:
    status, body = http(
        "GET", f"{stack.rasa_url}/conversations/{urllib.parse.quote(sender)}/tracker?token={stack.rasa_token}"
    )
    assert status == 200
    return json.loads(body)


def wa_message(wa_id: str, message: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    """A webhook body with one message from ``wa_id`` (sent now)."""
    message = {"from": wa_id, "id": message_id or next_message_id(), "timestamp": str(int(time.time())), **message}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5491100000000", "phone_number_id": WA_PHONE_ID},
        "contacts": [{"profile": {"name": "Vecina"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }


def wa_text(wa_id: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    return wa_message(wa_id, {"type": "text", "text": {"body": text}}, message_id)


def tg_text(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Vecina"}
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Vecina"},
        "from": user,
        "text": text,
    }
    return {"update_id": update_id or next_update_id(), "message": message}


def tg_press(chat_id: int, data: str, *, inline: bool = False) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Vecina"}
    query: dict[str, Any] = {"id": f"cq{random.randrange(10**9)}", "from": user, "chat_instance": "42", "data": data}
    if inline:
        query["inline_message_id"] = "AAAAinline"
    else:
        query["message"] = {
            "message_id": 7,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": "¿Qué más quiere hacer?",
        }
    return {"update_id": next_update_id(), "callback_query": query}


def domain_response(name: str) -> dict[str, Any]:
    """The first variant of a response in bot/domain/*.yml (so the tests follow its wording)."""
    import yaml

    for path in sorted((Path(__file__).resolve().parents[2] / "bot" / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text()) or {}).get("responses") or {}
        if name in responses:
            return dict(responses[name][0])
    raise KeyError(name)


# Buttons used to check the exact rendering, independent of the dialogue's wording.
MENU_BUTTONS = [
    {"title": "Consultar un trámite", "payload": "/ask_procedure"},
    {"title": "Iniciar un trámite", "payload": "/open_case"},
    {"title": "Ver cómo va mi trámite", "payload": "/check_case_status"},
]


def last_user(stack: Any, sender: str) -> dict[str, Any]:
    """The last ``user`` event of a conversation: what the channel handed to Rasa."""
    said = [e for e in tracker(stack, sender)["events"] if e["event"] == "user"]
    assert said, f"no user message reached Rasa for {sender}"
    return said[-1]


def intent_of(event: dict[str, Any]) -> str:
    return str(event["parse_data"]["intent"]["name"])
