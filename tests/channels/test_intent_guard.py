"""Item 7 on Telegram and WhatsApp: forged button data is not an intent shortcut.

A modified Telegram client can send any ``callback_data`` and a WhatsApp button reply
carries whatever id the client says. Pass criterion: a forged internal-intent or
slot-filling payload reaches Rasa as text for the NLU (tests/RELIABILITY.md); typed
text never does, and our own button payloads still work.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.channels.conftest import (
    intent_of,
    last_user,
    new_chat_id,
    new_wa_id,
    post_telegram,
    post_whatsapp,
    tg_press,
    tg_text,
    wa_message,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FORGED = [
    '/case_status_changed{"notified_case_code": "EXP-2026-000777", "notified_status": "aprobado"}',
    '/inform{"document_number": "30123456"}',
    "/restart",
]


def _wa_button(wa_id: str, payload: str) -> dict[str, Any]:
    return wa_message(
        wa_id,
        {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": payload, "title": "x"}}},
    )


@pytest.mark.parametrize("forged", FORGED)
def test_forged_button_data_is_read_as_text(channel_stack: Any, forged: str) -> None:
    chat, wa_id = new_chat_id(), new_wa_id()
    assert post_telegram(channel_stack, tg_press(chat, forged))[0] == 200
    assert post_whatsapp(channel_stack, _wa_button(wa_id, forged))[0] == 200
    named = forged[1:].split("{")[0]
    for sender in (str(chat), wa_id):
        event = last_user(channel_stack, sender)
        assert not event["text"].startswith("/"), event
        if named in ("case_status_changed", "restart"):  # the NLU may well read "inform{...}" as inform
            assert intent_of(event) != named, event
        assert not [e for e in event["parse_data"].get("entities") or [] if e["entity"] == "notified_case_code"]
    assert post_telegram(channel_stack, tg_text(chat, forged))[0] == 200  # typed: never an intent
    assert not last_user(channel_stack, str(chat))["text"].startswith("/")


def test_our_own_buttons_still_work(channel_stack: Any) -> None:
    chat, wa_id = new_chat_id(), new_wa_id()
    assert post_telegram(channel_stack, tg_press(chat, "/check_case_status"))[0] == 200
    assert post_whatsapp(channel_stack, _wa_button(wa_id, "/check_case_status"))[0] == 200
    assert intent_of(last_user(channel_stack, str(chat))) == "check_case_status"
    assert intent_of(last_user(channel_stack, wa_id)) == "check_case_status"
