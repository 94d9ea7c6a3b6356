"""The WhatsApp channel inside the real Rasa server, against a fake Graph API.

Webhook bodies are signed and posted to ``/webhooks/whatsapp/webhook`` as Meta posts
them; what the channel sends back is read from the fake Graph API's request log.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.parse
from typing import Any

import pytest

from connectors.common import messages
from connectors.common.privacy import pseudonym
from connectors.whatsapp.webhook import sign
from tests.channels.conftest import (
    FIXTURES,
    MENU_BUTTONS,
    WA_APP_SECRET,
    WA_PHONE_ID,
    WA_TEMPLATE,
    WA_VERIFY_TOKEN,
    bot_says,
    domain_response,
    http,
    intent_of,
    last_user,
    new_wa_id,
    next_message_id,
    post_whatsapp,
    tracker,
    wa_message,
    wa_text,
)
from tests.channels.fakes import FakeGraph, Recorded, graph_error

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MENU_REPLY_BUTTONS = {
    "type": "interactive",
    "interactive": {
        "type": "button",
        "body": {"text": "¿Qué necesita?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "/ask_procedure", "title": "Consultar un trámite"}},
                {"type": "reply", "reply": {"id": "/open_case", "title": "Iniciar un trámite"}},
                {"type": "reply", "reply": {"id": "/check_case_status", "title": "Ver cómo va mi…"}},
            ]
        },
    },
}


def sent_to(fake: FakeGraph, mark: int, wa_id: str) -> list[Recorded]:
    return fake.since(mark, "messages", lambda r: r.body.get("to") == wa_id)


def content(request: Recorded) -> dict[str, Any]:
    """The message part of a Graph request (without messaging_product, recipient...)."""
    body = dict(request.body)
    assert body.pop("messaging_product") == "whatsapp" and body.pop("recipient_type") == "individual"
    body.pop("to")
    return body


def user_texts(stack: Any, sender: str) -> list[str]:
    return [e["text"] for e in tracker(stack, sender)["events"] if e["event"] == "user"]


# --- handshake and signatures ------------------------------------------------------------


def test_verification_handshake(channel_stack: Any) -> None:
    url = f"{channel_stack.rasa_url}/webhooks/whatsapp/webhook"
    ok = urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.verify_token": WA_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert http("GET", f"{url}?{ok}") == (200, b"1158201444")
    wrong = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"})
    assert http("GET", f"{url}?{wrong}")[0] == 403
    no_mode = urllib.parse.urlencode({"hub.verify_token": WA_VERIFY_TOKEN, "hub.challenge": "1"})
    assert http("GET", f"{url}?{no_mode}")[0] == 403


@pytest.mark.parametrize(
    "case", ["tampered body", "wrong secret", "missing header", "sha1 signature", "signature vector"]
)
def test_bad_signatures_are_refused_without_processing(channel_stack: Any, fake_graph: FakeGraph, case: str) -> None:
    wa_id = new_wa_id()
    body = wa_text(wa_id, "hola")
    raw = json.dumps(body).encode()
    kwargs: dict[str, Any] = {"raw": raw}
    if case == "tampered body":
        kwargs = {"raw": raw.replace(b"hola", b"hole"), "signature": sign(raw, WA_APP_SECRET)}
    elif case == "wrong secret":
        kwargs["secret"] = WA_APP_SECRET + "x"
    elif case == "missing header":
        kwargs["signature"] = None
    elif case == "sha1 signature":
        import hashlib
        import hmac

        kwargs["signature"] = "sha1=" + hmac.new(WA_APP_SECRET.encode(), raw, hashlib.sha1).hexdigest()
    elif case == "signature vector":  # validly signed, but with another app's secret
        vector = json.loads((FIXTURES / "whatsapp" / "signature_vector.json").read_text())
        kwargs = {"raw": vector["raw_body"].encode(), "signature": vector["x_hub_signature_256"]}
    mark = fake_graph.mark()
    status, reply = post_whatsapp(channel_stack, None, **kwargs)
    assert status == 403 and reply == {"status": "forbidden"}
    assert fake_graph.since(mark) == []
    assert user_texts(channel_stack, wa_id) == []
    # not remembered either: the genuine delivery of the same message is processed
    status, reply = post_whatsapp(channel_stack, None, raw=raw)
    assert status == 200 and reply["messages"] == 1


# --- every example body ------------------------------------------------------------------


def _retarget(body: Any, now: str) -> Any:
    """Our phone number id, fresh message ids and timestamps (the examples share ids)."""
    body = copy.deepcopy(body)
    for entry in body.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            if isinstance(value.get("metadata"), dict):
                value["metadata"]["phone_number_id"] = WA_PHONE_ID
            for message in value.get("messages", []) or []:
                message["id"] = next_message_id()
                message["timestamp"] = now
    return body


def test_every_example_body_is_handled_or_ignored(channel_stack: Any, fake_graph: FakeGraph) -> None:
    handled = 0
    for path in sorted((FIXTURES / "whatsapp").glob("*.json")):
        if path.name == "signature_vector.json":
            continue
        for name, example in json.loads(path.read_text()).items():
            status, reply = post_whatsapp(channel_stack, _retarget(example, str(int(time.time()))))
            assert status == 200, f"{path.name}:{name}: {reply}"
            assert reply["errors"] == 0, f"{path.name}:{name}: {reply}"
            assert reply["messages"] + reply["statuses"] + reply["ignored"] >= 1
            handled += reply["messages"]
    assert handled >= 25


def test_examples_addressed_to_another_number_are_ignored(channel_stack: Any, fake_graph: FakeGraph) -> None:
    example = json.loads((FIXTURES / "whatsapp" / "edited_message.json").read_text())["image"]
    mark = fake_graph.mark()
    status, reply = post_whatsapp(channel_stack, example)
    assert status == 200 and reply["ignored"] == 1 and reply["messages"] == 0
    assert fake_graph.since(mark) == []


# --- conversations -----------------------------------------------------------------------


def test_greeting_is_answered(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    mark = fake_graph.mark()
    status, reply = post_whatsapp(channel_stack, wa_text(wa_id, "hola"))
    assert status == 200 and reply["messages"] == 1
    greeting = sent_to(fake_graph, mark, wa_id)[0]
    assert greeting.path == f"/v23.0/{WA_PHONE_ID}/messages"
    assert greeting.headers["Authorization"] == "Bearer EAA-test-access-token"
    assert content(greeting) == {
        "type": "text",
        "text": {"body": domain_response("utter_greet")["text"], "preview_url": False},
    }


def test_up_to_three_choices_become_reply_buttons(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    post_whatsapp(channel_stack, wa_text(wa_id, "hola"))  # opens the 24-hour window
    mark = fake_graph.mark()
    bot_says(channel_stack, wa_id, "whatsapp", "¿Qué necesita?", buttons=MENU_BUTTONS)
    [sent] = sent_to(fake_graph, mark, wa_id)
    assert content(sent) == MENU_REPLY_BUTTONS


def test_button_and_list_replies_reach_the_bot_as_payloads(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    mark = fake_graph.mark()
    post_whatsapp(
        channel_stack,
        wa_message(
            wa_id,
            {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "/help", "title": "Ayuda"}},
            },
        ),
    )
    assert intent_of(last_user(channel_stack, wa_id)) == "help"
    assert sent_to(fake_graph, mark, wa_id)  # answered
    post_whatsapp(
        channel_stack,
        wa_message(
            wa_id,
            {
                "type": "interactive",
                "interactive": {"type": "list_reply", "list_reply": {"id": "/greet", "title": "Hola"}},
            },
        ),
    )
    assert intent_of(last_user(channel_stack, wa_id)) == "greet"


def test_four_to_ten_choices_become_a_list(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    titles = [
        "Pasaporte",
        "Renovación de licencia de conducir",
        "Partida de nacimiento",
        "Certificado de residencia",
        "Multas de tránsito",
    ]
    mark = fake_graph.mark()
    bot_says(
        channel_stack,
        wa_id,
        "whatsapp",
        "¿Se refería a alguno de estos trámites?",
        buttons=[{"title": t, "payload": f"/ask_procedure{i}"} for i, t in enumerate(titles)],
    )
    [sent] = sent_to(fake_graph, mark, wa_id)
    assert content(sent) == {
        "type": "template",
        "template": {
            "name": WA_TEMPLATE,
            "language": {"code": "es"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "¿Se refería a alguno de estos trámites?"}]}
            ],
        },
    }  # this citizen never wrote: outside the 24-hour window only the template may go
    post_whatsapp(channel_stack, wa_text(wa_id, "hola"))  # now the window is open
    mark = fake_graph.mark()
    bot_says(
        channel_stack,
        wa_id,
        "whatsapp",
        "¿Se refería a alguno de estos trámites?",
        buttons=[{"title": t, "payload": f"/ask_procedure{i}"} for i, t in enumerate(titles)],
    )
    [sent] = sent_to(fake_graph, mark, wa_id)
    assert content(sent) == {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "¿Se refería a alguno de estos trámites?"},
            "action": {
                "button": "Ver opciones",
                "sections": [
                    {
                        "rows": [
                            {"id": "/ask_procedure0", "title": "Pasaporte"},
                            {
                                "id": "/ask_procedure1",
                                "title": "Renovación de licencia…",
                                "description": "Renovación de licencia de conducir",
                            },
                            {"id": "/ask_procedure2", "title": "Partida de nacimiento"},
                            {
                                "id": "/ask_procedure3",
                                "title": "Certificado de…",
                                "description": "Certificado de residencia",
                            },
                            {"id": "/ask_procedure4", "title": "Multas de tránsito"},
                        ]
                    }
                ],
            },
        },
    }


def test_more_choices_become_a_numbered_menu_answered_by_number(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    post_whatsapp(channel_stack, wa_text(wa_id, "hola"))
    buttons = [
        {"title": f"Trámite número {i}", "payload": "/help" if i == 2 else f"/ask_procedure{i}"} for i in range(1, 13)
    ]
    mark = fake_graph.mark()
    bot_says(channel_stack, wa_id, "whatsapp", "Elija un trámite:", buttons=buttons)
    [menu] = sent_to(fake_graph, mark, wa_id)
    lines = content(menu)["text"]["body"].split("\n")
    assert lines[:4] == ["Elija un trámite:", "", "1. Trámite número 1", "2. Trámite número 2"]
    assert lines[-1] == "Responda con el número de la opción que prefiera." and "12. Trámite número 12" in lines
    mark = fake_graph.mark()
    post_whatsapp(channel_stack, wa_text(wa_id, "2"))
    assert user_texts(channel_stack, wa_id)[-1] == "/help"  # the number became option 2's payload
    assert intent_of(last_user(channel_stack, wa_id)) == "help"
    assert sent_to(fake_graph, mark, wa_id)  # answered
    post_whatsapp(channel_stack, wa_text(wa_id, "2"))
    assert user_texts(channel_stack, wa_id)[-1] == "2"  # the menu was for one answer only


def test_long_text_is_split(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    post_whatsapp(channel_stack, wa_text(wa_id, "hola"))
    text = " ".join(
        f"Paso {i}: presente el formulario y la copia del documento." for i in range(120)
    )  # ~7000 characters
    mark = fake_graph.mark()
    bot_says(channel_stack, wa_id, "whatsapp", text)
    parts = [content(r) for r in sent_to(fake_graph, mark, wa_id)]
    assert len(parts) == 2 and all(p["type"] == "text" and len(p["text"]["body"]) <= 4096 for p in parts)
    assert " ".join(p["text"]["body"] for p in parts).split() == text.split()


def test_location_becomes_a_user_message_and_media_get_a_polite_reply(
    channel_stack: Any, fake_graph: FakeGraph
) -> None:
    wa_id = new_wa_id()
    post_whatsapp(
        channel_stack,
        wa_message(
            wa_id,
            {"type": "location", "location": {"latitude": -34.6037, "longitude": -58.3816, "name": "Municipalidad"}},
        ),
    )
    latest = last_user(channel_stack, wa_id)
    assert latest["text"] == "Ubicación compartida: Municipalidad"
    assert latest["metadata"]["location"] == {"latitude": -34.6037, "longitude": -58.3816, "name": "Municipalidad"}
    mark = fake_graph.mark()
    post_whatsapp(channel_stack, wa_message(wa_id, {"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}}))
    [reply] = sent_to(fake_graph, mark, wa_id)
    assert content(reply) == {"type": "text", "text": {"body": messages.ONLY_TEXT, "preview_url": False}}
    mark = fake_graph.mark()
    post_whatsapp(
        channel_stack,
        wa_message(
            wa_id,
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "ref:AAAAAAAAAAAAAAAAAAAAAA", "title": "x"},
                },
            },
        ),
    )
    [reply] = sent_to(fake_graph, mark, wa_id)
    assert content(reply)["text"]["body"] == messages.EXPIRED_OPTION


def test_the_same_message_is_processed_once(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    body = wa_text(wa_id, "hola")
    mark = fake_graph.mark()
    assert post_whatsapp(channel_stack, body)[1]["messages"] == 1
    first = len(sent_to(fake_graph, mark, wa_id))
    status, reply = post_whatsapp(channel_stack, body)
    assert status == 200 and reply["duplicates"] == 1 and reply["messages"] == 0
    assert len(sent_to(fake_graph, mark, wa_id)) == first
    assert user_texts(channel_stack, wa_id) == ["hola"]


def test_statuses_are_recorded_not_treated_as_messages(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    example = json.loads((FIXTURES / "whatsapp" / "message_status.json").read_text())
    mark = fake_graph.mark()
    for name in ("sent", "delivered", "read", "failed"):
        body = _retarget(example[name], "0")
        status_item = body["entry"][0]["changes"][0]["value"]["statuses"][0]
        status_item["recipient_id"] = wa_id
        status_item["id"] = f"wamid.status-{wa_id}"
        status, reply = post_whatsapp(channel_stack, body)
        assert status == 200 and reply["statuses"] == 1 and reply["messages"] == 0
    assert fake_graph.since(mark) == [] and user_texts(channel_stack, wa_id) == []
    log = (channel_stack.var_dir / "logs" / "rasa.log").read_text(errors="replace")
    tag = pseudonym(f"wamid.status-{wa_id}", WA_APP_SECRET)
    assert f"whatsapp status delivered for message {tag}" in log
    assert f"whatsapp status failed for message {tag}: graph-error-130472" in log
    assert wa_id not in log  # no phone numbers in the logs


def test_outside_the_window_notifications_use_the_template(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    mark = fake_graph.mark()
    text = "Hay novedades en su trámite EXP-2026-000123: ahora está «aprobado».\nToque «Ver estado»."
    bot_says(channel_stack, wa_id, "whatsapp", text, buttons=[{"title": "Ver estado", "payload": "/check_case_status"}])
    [sent] = sent_to(fake_graph, mark, wa_id)
    assert content(sent) == {
        "type": "template",
        "template": {
            "name": WA_TEMPLATE,
            "language": {"code": "es"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {
                            "type": "text",
                            "text": "Hay novedades en su trámite EXP-2026-000123: ahora está «aprobado». · Toque «Ver estado».",
                        }
                    ],
                }
            ],
        },
    }


def test_a_citizen_who_wrote_gets_free_form_and_a_refusal_falls_back_to_the_template(
    channel_stack: Any, fake_graph: FakeGraph
) -> None:
    wa_id = new_wa_id()
    post_whatsapp(channel_stack, wa_text(wa_id, "hola"))
    mark = fake_graph.mark()
    bot_says(channel_stack, wa_id, "whatsapp", "Su trámite fue aprobado.")
    assert [content(r) for r in sent_to(fake_graph, mark, wa_id)] == [
        {"type": "text", "text": {"body": "Su trámite fue aprobado.", "preview_url": False}}
    ]
    # Meta says the window closed after all (error 131047): the template goes instead
    fake_graph.fail_next("messages", graph_error(400, 131047, "Re-engagement message"))
    mark = fake_graph.mark()
    bot_says(channel_stack, wa_id, "whatsapp", "Su trámite fue aprobado.")
    assert [content(r)["type"] for r in sent_to(fake_graph, mark, wa_id)] == ["text", "template"]


def test_notification_through_trigger_intent(channel_stack: Any, fake_graph: FakeGraph) -> None:
    """How the backend's dispatcher notifies: Rasa's trigger_intent with output_channel."""
    wa_id = new_wa_id()
    mark = fake_graph.mark()
    body = {
        "name": "case_status_changed",
        "entities": {"notified_case_code": "EXP-2026-000123", "notified_status": "aprobado"},
    }
    url = f"{channel_stack.rasa_url}/conversations/{wa_id}/trigger_intent?output_channel=whatsapp&token={channel_stack.rasa_token}"
    status, reply = http("POST", url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    assert status == 200, reply[:300]
    [sent] = sent_to(fake_graph, mark, wa_id)
    parameters = content(sent)["template"]["components"][0]["parameters"]
    assert "EXP-2026-000123" in parameters[0]["text"] and "aprobado" in parameters[0]["text"]


def test_server_errors_and_rate_limits_are_retried(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    post_whatsapp(channel_stack, wa_text(wa_id, "hola"))
    fake_graph.fail_next("messages", graph_error(500, 2, "Service temporarily unavailable"))
    mark = fake_graph.mark()
    bot_says(channel_stack, wa_id, "whatsapp", "Primer aviso.")
    first, second = sent_to(fake_graph, mark, wa_id)
    assert first.body == second.body and second.at - first.at >= 0.5
    fake_graph.fail_next("messages", graph_error(429, 130429, "Rate limit hit", retry_after=1))
    mark = fake_graph.mark()
    bot_says(channel_stack, wa_id, "whatsapp", "Segundo aviso.")
    first, second = sent_to(fake_graph, mark, wa_id)
    assert first.body == second.body and second.at - first.at >= 1.0


def test_failed_sends_never_become_a_5xx(channel_stack: Any, fake_graph: FakeGraph) -> None:
    wa_id = new_wa_id()
    fake_graph.fail_next("messages", *[graph_error(500, 2, "down")] * 4)
    status, reply = post_whatsapp(channel_stack, wa_text(wa_id, "hola"))
    assert status == 200 and reply["errors"] == 1
