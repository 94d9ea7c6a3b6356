"""Every conversation flow through the REST channel, against the real running stack.

Nothing is mocked: Rasa runs the trained test model, the action server runs our
actions over the real index, and what the citizen did is read back from the real
database (SQLite under the stack's var/). Office hours decide the handoff branch:
the session stack runs with the default hours, so the branch it shows depends on
the clock; a second, small stack is started with the opposite setting so that both
branches are exercised on every run.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from actions.handoff import resume_conversation
from actions.office_hours import SupportSettings
from tests.conftest import RestChat, customs, started_stack, texts

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CODE_RE = re.compile(r"EXP-\d{4}-\d{6}")
REFERENCE_RE = re.compile(r"ATN-[A-Z0-9]{6}")


def rows(stack: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(Path(stack.var_dir) / "cases.db") as db:
        return db.execute(sql, params).fetchall()


def buttons(messages: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons", [])]


def fill_form(chat: RestChat, *, document: str = "30123456", contact: str = "ana.perez@correo.com") -> str:
    """Starts a case for certificado-residencia and answers up to the summary; returns it."""
    assert "qué trámite" in texts(chat.say("quiero iniciar un trámite")).lower()
    assert "nombre" in texts(chat.say("certificado de residencia")).lower()
    assert "documento" in texts(chat.say("me llamo Ana María Pérez")).lower()
    assert "correo" in texts(chat.say(f"mi dni es {document}")).lower()
    assert "privacidad" in texts(chat.say(contact)).lower()
    messages = chat.say("sí, acepto")
    assert buttons(messages) == ["Confirmar", "Corregir un dato", "Cancelar"], messages
    return texts(messages)


# --- open a case ------------------------------------------------------------------------------
def test_open_a_case_correcting_the_contact_from_the_summary(stack: Any, chat: RestChat) -> None:
    summary = fill_form(chat, contact="ana.perez@correo.com")
    assert "Certificado de residencia" in summary and "Ana María Pérez" in summary and "30123456" in summary
    assert "correo" in texts(chat.say("me equivoqué en el mail")).lower()
    summary = texts(chat.say("anaperez@correo.com"))
    assert "Revise sus datos" in summary and "anaperez@correo.com" in summary
    reply = texts(chat.say("confirmo"))
    code = CODE_RE.search(reply)
    assert code, reply
    [(contact, procedure)] = rows(stack, "SELECT contact, procedure_id FROM cases WHERE code = ?", code.group(0))
    assert (contact, procedure) == ("anaperez@correo.com", "certificado-residencia")


def test_a_plain_no_at_the_summary_offers_the_fields_as_buttons(chat: RestChat) -> None:
    fill_form(chat, document="27999888")
    messages = chat.say("no")
    assert "qué dato" in texts(messages).lower()
    assert buttons(messages) == ["Trámite", "Nombre", "Documento", "Correo o teléfono", "Está todo bien"]
    assert "documento" in texts(chat.say('/correct_field{"field": "document_number"}')).lower()
    summary = texts(chat.say("27.999.889"))
    assert "27999889" in summary and "27999888" not in summary


def test_invalid_answers_get_a_clear_message_and_the_question_again(chat: RestChat) -> None:
    chat.say('/open_case{"procedure": "certificado-residencia"}')
    reply = texts(chat.say("Ana"))
    assert "nombre y apellido" in reply.lower()
    chat.say("Ana Pérez")
    reply = texts(chat.say("12"))
    assert "no parece válido" in reply and "documento" in reply
    chat.say("30123456")
    reply = texts(chat.say("no tengo"))
    assert "No reconocí un correo ni un teléfono" in reply
    chat.say("+54 9 11 5555 1234")
    reply = texts(chat.say("no acepto"))
    assert "Sin su aceptación" in reply and "privacidad" in reply.lower()


def test_cancel_in_the_middle_stores_nothing(stack: Any, chat: RestChat) -> None:
    before = rows(stack, "SELECT count(*) FROM cases")[0][0]
    chat.say("quiero iniciar un trámite")
    chat.say("certificado de residencia")
    chat.say("Juana Martínez")
    reply = texts(chat.say("cancelar"))
    assert "lo dejamos acá" in reply and "¿Le puedo ayudar con algo más?" in reply
    assert rows(stack, "SELECT count(*) FROM cases")[0][0] == before
    # The form is really over: a name now is just a lone piece of data.
    assert "documento" not in texts(chat.say("Juana Martínez")).lower()


def test_a_question_in_the_middle_of_the_form_then_back_to_it(chat: RestChat) -> None:
    chat.say("quiero iniciar un trámite")
    chat.say("certificado de residencia")
    chat.say("Ana Pérez")
    messages = chat.say("¿cuánto cuesta el certificado de residencia?")
    assert [c for c in customs(messages) if c.get("type") == "kb_answer"], messages
    assert "número de documento" in texts(messages).lower()  # the form asks again
    assert "¿Le sirvió" not in texts(messages)  # no feedback question inside a form
    assert "correo" in texts(chat.say("30123456")).lower()


# --- status and "mis trámites" ------------------------------------------------------------------
def test_three_failed_verifications_lock_the_status_check(stack: Any) -> None:
    owner = RestChat(stack.rasa_url)
    fill_form(owner, document="41222333")
    code = CODE_RE.search(texts(owner.say("confirmo"))).group(0)  # type: ignore[union-attr]

    stranger = RestChat(stack.rasa_url)
    for attempt in range(3):
        assert "últimos 4" in texts(stranger.say(f"como va mi tramite {code}"))
        reply = texts(stranger.say(f"{attempt}{attempt}{attempt}{attempt}"))
        assert code not in reply and "recibido" not in reply
    assert "demasiados intentos" in reply
    # Locked: not even asked for the code, and the right answer would not help.
    reply = texts(stranger.say(f"como va mi tramite {code}"))
    assert "demasiados intentos" in reply and "últimos 4" not in reply
    assert "recibido" not in texts(stranger.say("2333"))
    # The owner, in another conversation, is not affected.
    checker = RestChat(stack.rasa_url)
    checker.say(f"como va mi tramite {code}")
    assert "recibido" in texts(checker.say("2333"))


def test_my_cases_after_verification(stack: Any, chat: RestChat) -> None:
    fill_form(chat, document="35444555")
    code = CODE_RE.search(texts(chat.say("confirmo"))).group(0)  # type: ignore[union-attr]
    assert "Para mostrarle sus trámites" in texts(chat.say("mis trámites"))
    reply = texts(chat.say("4555"))
    assert "Estos son sus trámites (1)" in reply and code in reply and "Certificado de residencia" in reply
    # Another chat with the same document sees nothing.
    other = RestChat(stack.rasa_url)
    assert "Para mostrarle sus trámites" in texts(other.say("ver mis tramites"))
    reply = texts(other.say("4555"))
    assert code not in reply and "No encontré trámites" in reply


# --- knowledge base, feedback, not understood ---------------------------------------------------------
def test_an_answer_asks_if_it_helped_and_stores_the_answer(stack: Any, chat: RestChat) -> None:
    messages = chat.say("que necesito para sacar el pasaporte por primera vez")
    assert [c for c in customs(messages) if c.get("type") == "kb_answer"], messages
    assert "¿Le sirvió esta respuesta?" in texts(messages)
    assert {"Sí", "No"} <= set(buttons(messages))
    before = rows(stack, "SELECT count(*) FROM answer_feedback WHERE helpful = 0")[0][0]
    messages = chat.say("/deny")
    assert "otra forma" in texts(messages) and "Hablar con una persona" in buttons(messages)
    after = rows(stack, "SELECT procedure_id FROM answer_feedback WHERE helpful = 0 ORDER BY id DESC")
    assert len(after) > before and after[0][0] == "pasaporte-emision"


def test_no_answer_twice_ends_with_a_person(chat: RestChat) -> None:
    """The knowledge base abstains: first a rephrase with suggestions, the second time a person."""
    question = "donde se tramita la visa para viajar a marte"
    first = chat.say(question)
    assert not [c for c in customs(first) if c.get("type") == "kb_answer"], first
    assert "prefiero no adivinar" in texts(first) and "otras palabras" in texts(first)
    second = chat.say(question)
    assert not [c for c in customs(second) if c.get("type") == "kb_answer"], second
    assert "le comunico con una persona" in texts(second) and "Hablar con una persona" in buttons(second)
    assert "¿Le sirvió" not in texts(first) + texts(second)  # only real answers ask for feedback


def test_out_of_scope_offers_what_the_bot_can_do(chat: RestChat) -> None:
    messages = chat.say("quien gano el partido de boca anoche")
    assert "no puedo ayudarle" in texts(messages)
    assert "Iniciar un trámite" in buttons(messages)


# --- suggestions and ratings ------------------------------------------------------------------------
def test_a_suggestion_is_stored_with_its_topic(stack: Any, chat: RestChat) -> None:
    reply = texts(chat.say("tengo una sugerencia"))
    assert "idea" in reply.lower()
    reply = texts(chat.say("deberian poner mas colectivos a la noche, mi cel es 11 4444 3333"))
    assert "Transporte público" in reply
    [(topic, text)] = rows(stack, "SELECT topic, text FROM suggestions WHERE text LIKE '%colectivos a la noche%'")
    assert topic == "transporte" and "4444" not in text


def test_rating_at_the_end(stack: Any, chat: RestChat) -> None:
    messages = chat.say("gracias, chau")
    if "¿Le puedo ayudar con algo más?" in texts(messages):  # understood as thanks first
        messages = chat.say("no, gracias")
    assert buttons(messages) == ["1", "2", "3", "4", "5"], messages
    before = rows(stack, "SELECT count(*) FROM ratings WHERE score = 4")[0][0]
    reply = texts(chat.say('/feedback{"rating": "4"}'))
    assert "calificación" in reply and "Hasta luego" in reply
    assert rows(stack, "SELECT count(*) FROM ratings WHERE score = 4")[0][0] == before + 1


# --- human handoff ----------------------------------------------------------------------------------
def _open_now() -> bool:
    return SupportSettings().hours().is_open(datetime.now(timezone.utc))


@pytest.fixture(scope="module")
def opposite_stack(
    test_model: Path, kb_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, bool]]:
    """A second stack whose office hours give the other handoff branch than the session
    stack: always open, or no live chat at all. Yields (stack, always_open)."""
    always_open = not _open_now()
    hours = "mon-sun 00:00-24:00" if always_open else ""
    var_dir = tmp_path_factory.mktemp("handoff-stack-var")
    with started_stack(test_model, kb_index_dir, var_dir, {"VENTANILLA_OFFICE_HOURS": hours}) as running:
        yield running, always_open


def _live_handoff(stack: Any) -> None:
    chat = RestChat(stack.rasa_url)
    chat.say("cuanto sale el certificado de residencia? mi mail es juana@correo.com")
    messages = chat.say("quiero hablar con una persona")
    reply = texts(messages)
    assert "Le comunico con una persona" in reply, reply
    reference = REFERENCE_RE.search(reply).group(0)  # type: ignore[union-attr]
    # The bot is paused: the citizen's messages reach the conversation, the bot stays quiet.
    assert chat.say("hola? sigue ahí?") == []
    [(state, live, summary)] = rows(
        stack, "SELECT state, during_office_hours, summary FROM handoff_requests WHERE reference = ?", reference
    )
    assert state == "waiting_agent" and live == 1
    assert "(human_handoff) quiero hablar con una persona" in summary and "juana@correo.com" not in summary
    # An agent gives the conversation back to the bot.
    resume_conversation(stack.rasa_url, chat.sender, stack.rasa_token)
    assert "asistente virtual" in texts(chat.say("hola"))


def _offline_handoff(stack: Any) -> None:
    chat = RestChat(stack.rasa_url)
    messages = chat.say("quiero hablar con una persona")
    reply = texts(messages)
    assert "no hay personas atendiendo" in reply or "no hay atención en vivo" in reply, reply
    assert buttons(messages) == ["Sí, dejar un mensaje", "No, gracias"]
    assert "Escriba su mensaje" in texts(chat.say("/affirm"))
    reply = texts(chat.say("necesito que me llamen por la pension de mi mama, mi cel 11 5555 1234"))
    reference = REFERENCE_RE.search(reply).group(0)  # type: ignore[union-attr]
    [(state, message, summary)] = rows(
        stack, "SELECT state, message, summary FROM handoff_requests WHERE reference = ?", reference
    )
    assert state == "message_left" and "pension de mi mama" in message and "5555" not in message
    assert "quiero hablar con una persona" in summary
    # Not paused: the bot keeps answering.
    assert "asistente virtual" in texts(chat.say("hola"))


def test_handoff_on_the_session_stack(stack: Any) -> None:
    open_before = _open_now()
    (_live_handoff if open_before else _offline_handoff)(stack)
    if _open_now() != open_before:
        pytest.skip("office hours began or ended during the test")


def test_handoff_the_other_branch(opposite_stack: tuple[Any, bool]) -> None:
    stack, always_open = opposite_stack
    (_live_handoff if always_open else _offline_handoff)(stack)
