"""WhatsApp pieces that need no Rasa: signatures, webhook reading, rendering, Graph client."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.common.retry import RetryPolicy
from connectors.whatsapp.graph import GraphClient, GraphError
from connectors.whatsapp.render import render, template_body, template_parameters
from connectors.whatsapp.settings import WhatsAppSettings
from connectors.whatsapp.webhook import Ignored, Inbound, Status, read_webhook, sign, verify_signature
from tests.channels.fakes import FakeGraph, graph_error

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
PHONE_ID = "1122334455667"


def examples(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


# --- signatures --------------------------------------------------------------------------


def test_signature_vector_verifies() -> None:
    vector = json.loads((FIXTURES / "signature_vector.json").read_text())
    raw = vector["raw_body"].encode()
    assert verify_signature(raw, vector["x_hub_signature_256"], vector["app_secret"])
    assert sign(raw, vector["app_secret"]) == vector["x_hub_signature_256"]


@pytest.mark.parametrize(
    "case",
    ["tampered body", "wrong secret", "missing header", "sha1 header", "bare hex", "uppercase prefix", "non-ascii"],
)
def test_signature_refusals(case: str) -> None:
    vector = json.loads((FIXTURES / "signature_vector.json").read_text())
    raw, header, secret = vector["raw_body"].encode(), vector["x_hub_signature_256"], vector["app_secret"]
    if case == "tampered body":
        raw = raw.replace(b"Hey there", b"Hey thera")
    elif case == "wrong secret":
        secret = secret[:-1] + "0"
    elif case == "missing header":
        header = None
    elif case == "sha1 header":
        header = "sha1=" + header.split("=", 1)[1][:40]
    elif case == "bare hex":
        header = header.split("=", 1)[1]
    elif case == "uppercase prefix":
        header = "SHA256=" + header.split("=", 1)[1]
    elif case == "non-ascii":
        header = "sha256=ñ" + header.split("=", 1)[1][1:]
    assert not verify_signature(raw, header, secret)


# --- reading webhooks --------------------------------------------------------------------


def test_every_fixture_is_read_without_errors() -> None:
    count = 0
    for path in sorted(FIXTURES.glob("*.json")):
        if path.name == "signature_vector.json":
            continue
        for name, body in examples(path.name).items():
            events = read_webhook(body, PHONE_ID)
            assert events, f"{path.name}:{name}"
            count += 1
    assert count > 60


def test_text_button_list_and_location_become_messages() -> None:
    text = read_webhook(examples("message.json")["text"], PHONE_ID)[0]
    assert (
        isinstance(text, Inbound)
        and text.text == "Body Text"
        and text.sender == "972987654321"
        and text.message_id == "wamid.xyzxyz"
    )
    button = read_webhook(examples("callback_button.json")["button"], PHONE_ID)[0]
    assert isinstance(button, Inbound) and button.button == "callback_data" and button.text is None
    row = read_webhook(examples("callback_selection.json")["description"], PHONE_ID)[0]
    assert isinstance(row, Inbound) and row.button == "callback_data"
    template_reply = read_webhook(examples("callback_button.json")["quick_reply"], PHONE_ID)[0]
    assert isinstance(template_reply, Inbound) and template_reply.button == "callback_data"
    place = read_webhook(examples("message.json")["chosen_location"], PHONE_ID)[0]
    assert (
        isinstance(place, Inbound)
        and place.text == "Ubicación compartida: Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025"
    )
    assert place.metadata["location"]["latitude"] == pytest.approx(37.4611978)
    pin = read_webhook(examples("message.json")["current_location"], PHONE_ID)[0]
    assert isinstance(pin, Inbound) and pin.text == "Ubicación compartida: 12.25089, 43.90539"


def test_media_get_a_polite_reply_and_reactions_are_ignored() -> None:
    message = examples("message.json")
    for name in ("image", "video", "document", "static_sticker", "contacts", "order", "unsupported"):
        event = read_webhook(message[name], PHONE_ID)[0]
        assert isinstance(event, Inbound) and event.reply and event.text is None, name
    voice = read_webhook(message["voice"], PHONE_ID)[0]
    assert isinstance(voice, Inbound) and voice.reply and "audios" in voice.reply
    for name in ("reaction", "unreaction_empty", "unreaction_no_emoji"):
        assert isinstance(read_webhook(message[name], PHONE_ID)[0], Ignored)
    assert all(isinstance(e, Ignored) for e in read_webhook(examples("system.json")["identity_change"], PHONE_ID))


def test_statuses_are_recorded_not_messages() -> None:
    statuses = examples("message_status.json")
    for name in ("sent", "delivered", "read", "failed"):
        events = read_webhook(statuses[name], PHONE_ID)
        assert len(events) == 1 and isinstance(events[0], Status) and events[0].status == name
    failed = read_webhook(statuses["failed"], PHONE_ID)[0]
    assert isinstance(failed, Status) and failed.errors[0][0] == 130472


def test_typed_slash_text_is_not_an_intent_and_other_numbers_are_ignored() -> None:
    body = examples("message.json")["text"]
    body["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = '/open_case{"procedure": "x"}'
    event = read_webhook(body, PHONE_ID)[0]
    assert isinstance(event, Inbound) and event.text == 'open_case{"procedure": "x"}'
    assert read_webhook(body, "999") == [Ignored("addressed to another phone number")]
    assert isinstance(read_webhook({"object": "page"}, PHONE_ID)[0], Ignored)


# --- rendering ---------------------------------------------------------------------------


async def _plain(payload: str, max_bytes: int) -> str:
    return payload if len(payload.encode()) <= max_bytes else "ref:LONG"


def rendered(message: dict[str, Any]) -> Any:
    return asyncio.run(render(message, _plain))


def test_up_to_three_buttons_become_reply_buttons_with_cut_titles() -> None:
    out = rendered(
        {
            "text": "¿Qué necesita?",
            "buttons": [
                {"title": "Consultar un trámite", "payload": "/ask_procedure"},
                {"title": "Iniciar un trámite", "payload": "/open_case"},
                {"title": "Ver cómo va mi trámite", "payload": "/check_case_status"},
            ],
        }
    )
    assert out.menu is None
    assert out.bodies == [
        {
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
    ]


def test_four_to_ten_buttons_become_a_list() -> None:
    titles = ["Pasaporte", "Renovación de licencia de conducir", "Partida de nacimiento", "Certificado de residencia"]
    out = rendered(
        {
            "text": "¿Se refería a alguno de estos trámites?",
            "buttons": [{"title": t, "payload": f"/p{i}"} for i, t in enumerate(titles)],
        }
    )
    [body] = out.bodies
    interactive = body["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Ver opciones"
    rows = interactive["action"]["sections"][0]["rows"]
    assert rows[0] == {"id": "/p0", "title": "Pasaporte"}
    assert rows[1] == {
        "id": "/p1",
        "title": "Renovación de licencia…",
        "description": "Renovación de licencia de conducir",
    }
    assert all(len(r["title"]) <= 24 for r in rows) and len(rows) == 4


def test_shortened_titles_stay_distinct() -> None:
    def kinds(*titles: str) -> Any:
        out = rendered({"text": "¿Cuál?", "buttons": [{"title": t, "payload": f"/p{i}"} for i, t in enumerate(titles)]})
        body = out.bodies[0]
        if body["type"] == "text":
            return "menu", None
        interactive = body["interactive"]
        if interactive["type"] == "button":
            return "button", [b["reply"]["title"] for b in interactive["action"]["buttons"]]
        return "list", [r["title"] for r in interactive["action"]["sections"][0]["rows"]]

    # cut at a word they would read the same: cut mid-word instead
    assert kinds("Certificado de residencia", "Certificado de discapacidad") == (
        "button",
        ["Certificado de resi…", "Certificado de disc…"],
    )
    # equal within 20 characters but not within 24: a list
    assert kinds("Pago de tasa municipal A", "Pago de tasa municipal B") == (
        "list",
        ["Pago de tasa municipal A", "Pago de tasa municipal B"],
    )
    # equal even within 24: a numbered menu shows the full titles
    assert kinds("Certificado de residencia urbana", "Certificado de residencia rural")[0] == "menu"


def test_more_than_ten_buttons_become_a_numbered_menu() -> None:
    out = rendered({"text": "Elija:", "buttons": [{"title": f"Opción {i}", "payload": f"/p{i}"} for i in range(1, 12)]})
    assert out.bodies[0]["type"] == "text"
    assert out.bodies[0]["text"]["body"].startswith("Elija:\n\n1. Opción 1\n")
    assert [c.payload for c in out.menu] == [f"/p{i}" for i in range(1, 12)]


def test_long_texts_are_split_and_long_ids_referenced() -> None:
    text = ("Requisito importante del trámite. " * 200).strip()
    out = rendered({"text": text})
    assert len(out.bodies) == 2 and all(len(b["text"]["body"]) <= 4096 for b in out.bodies)
    with_buttons = rendered({"text": text, "buttons": [{"title": "Sí", "payload": "/affirm" + "x" * 300}]})
    assert [b["type"] for b in with_buttons.bodies] == ["text", "text", "interactive"]
    last = with_buttons.bodies[-1]["interactive"]
    assert len(last["body"]["text"]) <= 1024
    assert last["action"]["buttons"][0]["reply"]["id"] == "ref:LONG"


def test_kb_source_chip_is_not_sent_and_images_are() -> None:
    assert rendered({"custom": {"type": "kb_answer", "title": "x"}}).bodies == []
    out = rendered({"text": "Mire", "image": "https://example.org/mapa.png"})
    assert out.bodies[1] == {"type": "image", "image": {"link": "https://example.org/mapa.png"}}


def test_template_for_notifications() -> None:
    assert template_parameters({"text": "Su trámite EXP-2026-000123\n\nfue aprobado."}) == [
        "Su trámite EXP-2026-000123 · fue aprobado."
    ]
    named = {"custom": {"type": "case_notification", "text": "x", "template_parameters": ["EXP-1", "aprobado"]}}
    assert template_parameters(named) == ["EXP-1", "aprobado"]
    assert template_body("novedad", "es", ["a"]) == {
        "type": "template",
        "template": {
            "name": "novedad",
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "a"}]}],
        },
    }


# --- Graph API client (against a fake Graph API server) ----------------------------------


@pytest.fixture
def graph() -> Any:
    server = FakeGraph().start()
    yield server
    server.stop()


def _client(server: FakeGraph) -> GraphClient:
    settings = WhatsAppSettings("token-abc", "secret", "verify", PHONE_ID, api_base_url=f"{server.url}/v23.0")
    return GraphClient(settings, RetryPolicy(attempts=3, base_delay=0.2))


def _send(server: FakeGraph, body: dict[str, Any]) -> Any:
    async def go() -> Any:
        client = _client(server)
        try:
            return await client.send("5491100000000", body)
        finally:
            await client.close()

    return asyncio.run(go())


def test_graph_request_is_exact(graph: FakeGraph) -> None:
    message_id = _send(graph, {"type": "text", "text": {"body": "Hola", "preview_url": False}})
    assert message_id == "wamid.fake1"
    [request] = graph.requests
    assert request.method == "POST" and request.path == f"/v23.0/{PHONE_ID}/messages"
    assert request.headers["Authorization"] == "Bearer token-abc"
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5491100000000",
        "type": "text",
        "text": {"body": "Hola", "preview_url": False},
    }


def test_graph_retries_5xx_with_backoff(graph: FakeGraph) -> None:
    graph.fail_next("messages", graph_error(500, 2, "Service temporarily unavailable"), graph_error(503, 2, "down"))
    assert _send(graph, {"type": "text", "text": {"body": "x"}}) == "wamid.fake1"
    first, second, third = graph.requests
    assert first.body == second.body == third.body
    assert second.at - first.at >= 0.2 and third.at - second.at >= 0.4  # exponential backoff


def test_graph_honours_retry_after(graph: FakeGraph) -> None:
    graph.fail_next("messages", graph_error(429, 130429, "Rate limit hit", retry_after=1))
    _send(graph, {"type": "text", "text": {"body": "x"}})
    first, second = graph.requests
    assert second.at - first.at >= 1.0


def test_graph_final_errors_are_not_retried(graph: FakeGraph) -> None:
    graph.fail_next("messages", graph_error(400, 131047, "Re-engagement message"))
    started = time.monotonic()
    with pytest.raises(GraphError) as error:
        _send(graph, {"type": "text", "text": {"body": "x"}})
    assert error.value.code == 131047 and len(graph.requests) == 1
    assert time.monotonic() - started < 5


def test_graph_gives_up_after_the_attempts(graph: FakeGraph) -> None:
    graph.fail_next("messages", *[graph_error(500, 1, "down")] * 5)
    with pytest.raises(GraphError):
        _send(graph, {"type": "text", "text": {"body": "x"}})
    assert len(graph.requests) == 3
