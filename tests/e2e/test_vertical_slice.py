"""The vertical slice, end to end, through the real processes and the REST channel.

Nothing here is mocked: the Rasa server runs the trained test model, the action
server runs the real embedding model over the real index, and cases are written
to and read from the database by SQLAlchemy. Breaking any of those makes a test
here fail.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.conftest import RestChat, customs, texts

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CODE_RE = re.compile(r"EXP-\d{4}-\d{6}")


def test_every_service_reports_healthy(stack) -> None:
    import urllib.request

    for url in (
        f"{stack.rasa_url}/health",
        f"{stack.action_url}/health",
        f"{stack.backend_url}/health",
        f"{stack.web_url}health",
    ):
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200, url


def test_rasa_http_api_needs_the_token_but_channels_do_not(stack, chat: RestChat) -> None:
    """Trackers hold what citizens typed: only the stack's own services may read them."""
    import urllib.error
    import urllib.request

    chat.say("hola")
    tracker = f"{stack.rasa_url}/conversations/{chat.sender}/tracker"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tracker, timeout=5)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(f"{tracker}?token=not-the-token", timeout=5)
    assert wrong.value.code == 401
    with urllib.request.urlopen(f"{tracker}?token={stack.rasa_token}", timeout=5) as response:
        assert response.status == 200


def test_greeting_and_help_in_spanish(chat: RestChat) -> None:
    reply = texts(chat.say("hola"))
    assert "asistente virtual" in reply
    assert "trámites" in reply


@pytest.mark.parametrize(
    ("question", "procedure_id"),
    [
        ("que papeles necesito para sacar el pasaporte por primera vez", "pasaporte-emision"),
        ("me robaron la billetera con el documento, como saco uno nuevo", "documento-identidad-duplicado"),
        ("cuanto sale renovar la licencia de conducir", "licencia-conducir-renovacion"),
    ],
)
def test_procedure_question_is_answered_from_the_knowledge_base(
    chat: RestChat, question: str, procedure_id: str
) -> None:
    messages = chat.say(question)
    chips = [c for c in customs(messages) if c.get("type") == "kb_answer"]
    assert chips, f"no kb_answer for {question!r}: {messages}"
    assert chips[0]["procedure_id"] == procedure_id
    assert chips[0]["source_url"].endswith(f"/tramites/{procedure_id}")
    reply = texts(messages)
    assert "Fuente:" in reply and chips[0]["title"] in reply
    buttons = [b["title"] for m in messages for b in m.get("buttons", [])]
    assert "Iniciar trámite" in buttons


def test_unrelated_question_is_abstained_on(chat: RestChat) -> None:
    messages = chat.say("como se hace una torta de chocolate sin horno")
    assert not [c for c in customs(messages) if c.get("type") == "kb_answer"], messages
    reply = texts(messages)
    assert "prefiero no adivinar" in reply or "no puedo ayudarle" in reply


def _open_case(chat: RestChat, document: str) -> str:
    assert "qué trámite" in texts(chat.say("quiero iniciar un trámite")).lower()
    chat.say('/inform{"procedure": "certificado-residencia"}')
    assert "documento" in texts(chat.say("Ana María Pérez")).lower()
    assert "correo" in texts(chat.say(document)).lower()
    assert "privacidad" in texts(chat.say("ana.perez@correo.com")).lower()
    summary = texts(chat.say("/affirm"))  # accepts the privacy notice: the summary to confirm
    assert "Revise sus datos" in summary and document in summary, summary
    reply = texts(chat.say("/affirm"))
    match = CODE_RE.search(reply)
    assert match, reply
    return match.group(0)


def test_open_a_case_then_check_its_status(stack, chat: RestChat) -> None:
    code = _open_case(chat, "30123456")

    with sqlite3.connect(stack.var_dir / "cases.db") as db:
        rows = db.execute("SELECT procedure_id, status, document_hash FROM cases WHERE code = ?", (code,)).fetchall()
    assert rows and rows[0][0] == "certificado-residencia" and rows[0][1] == "recibido"
    assert "30123456" not in rows[0][2]  # the document number is not stored in clear text

    other = RestChat(stack.rasa_url)
    reply = texts(other.say(f"¿cómo va mi trámite {code}?"))
    assert "últimos 4" in reply
    reply = texts(other.say("3456"))
    assert code in reply and "recibido" in reply


def test_wrong_verification_reveals_nothing(stack, chat: RestChat) -> None:
    code = _open_case(chat, "27999888")
    stranger = RestChat(stack.rasa_url)
    stranger.say(f"como va mi tramite {code}")
    reply_existing = texts(stranger.say("0000"))
    assert code not in reply_existing and "recibido" not in reply_existing

    stranger2 = RestChat(stack.rasa_url)
    stranger2.say("como va mi tramite EXP-2026-999999")
    reply_missing = texts(stranger2.say("0000"))
    assert reply_existing == reply_missing


def test_logs_hold_no_personal_data_or_message_text(stack) -> None:
    """Runs after the conversations above: nothing the citizens typed reached the logs."""
    secrets = ("30123456", "27999888", "ana.perez@correo.com", "Ana María Pérez", "torta de chocolate", "billetera")
    logs = {p.name: p.read_text(errors="replace") for p in (stack.var_dir / "logs").glob("*.log")}
    assert set(logs) >= {"rasa.log", "actions.log", "backend.log"}
    for name, content in logs.items():
        for secret in secrets:
            assert secret not in content, f"{secret!r} found in {name}"


def test_action_server_errors_never_echo_the_tracker(stack) -> None:
    import json
    import urllib.error
    import urllib.request

    secret = "DNI 30111222 de Juana"
    body = json.dumps(
        {
            "next_action": "action_that_does_not_exist",
            "sender_id": "x",
            "tracker": {"latest_message": {"text": secret}},
            "domain": {},
        }
    ).encode()
    request = urllib.request.Request(
        f"{stack.action_url}/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    assert excinfo.value.code == 404
    assert secret not in excinfo.value.read().decode()
