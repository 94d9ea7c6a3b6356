"""The interaction store: real SQL (SQLite and PostgreSQL), and no personal data in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db import create_schema, make_engine
from backend.hashing import sender_hash
from backend.interactions import InteractionStore, interaction_sender_hash
from backend.redaction import redact
from backend.scratch_schema import scratch_schema
from backend.suggestion_topics import classify_topic

KEY = "test-hash-key-0123456789abcdef0123456789"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    with scratch_schema(base) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[tuple[InteractionStore, str]]:
    engine = make_engine(store_url)
    create_schema(engine)
    yield InteractionStore(engine, hash_key=KEY), store_url
    engine.dispose()


def _dump(url: str) -> str:
    """Every row of the interaction tables as text (what a leak would show)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return "\n".join(
                repr(tuple(row))
                for table in ("answer_feedback", "ratings", "suggestions", "handoff_requests")
                for row in conn.execute(text(f"SELECT * FROM {table}"))
            )
    finally:
        engine.dispose()


PERSONAL = ("juana@correo.com", "30111222", "+54 9 11 5555 1234", "sender-juana-42")


def test_everything_is_stored_without_personal_data(store: tuple[InteractionStore, str]) -> None:
    interactions, url = store
    sender = "sender-juana-42"
    interactions.record_answer_feedback(
        sender_id=sender, channel="telegram", procedure_id="pasaporte-emision", helpful=False
    )
    interactions.record_rating(
        sender_id=sender, channel="telegram", score=2, comment="escribí a juana@correo.com y nada"
    )
    topic = interactions.record_suggestion(
        sender_id=sender, channel="telegram", text="pongan más colectivos, mi cel es +54 9 11 5555 1234"
    )
    reference = interactions.open_handoff(
        sender_id=sender, channel="telegram", during_office_hours=False, summary="Motivo: x\n- (inform) dni 30111222"
    )
    assert interactions.leave_message(
        reference=reference, sender_id=sender, message="llámenme al +54 9 11 5555 1234, dni 30111222"
    )

    assert topic == "transporte"
    dump = _dump(url)
    for secret in PERSONAL:
        assert secret not in dump, secret
    assert interaction_sender_hash(KEY, sender) in dump
    # Not joinable with the case tables' sender hash.
    assert sender_hash(KEY, sender) not in dump
    assert "[correo]" in dump and "[número]" in dump


def test_handoff_queue_and_finding_the_conversation(store: tuple[InteractionStore, str]) -> None:
    interactions, _ = store
    live = interactions.open_handoff(sender_id="a", channel="rest", during_office_hours=True, summary="s1")
    offline = interactions.open_handoff(sender_id="b", channel="rest", during_office_hours=False, summary="s2")
    assert live != offline and live.startswith("ATN-")
    queue = interactions.open_handoffs()
    assert [h.reference for h in queue] == [live, offline]
    assert [h.state for h in queue] == ["waiting_agent", "no_message"]
    assert interactions.find_conversation(offline, ["x", "b", "a"]) == "b"
    assert interactions.find_conversation("ATN-NOPE00", ["a", "b"]) is None
    # Only the citizen who asked can attach a message to a request.
    assert not interactions.leave_message(reference=offline, sender_id="a", message="hola equipo")
    assert interactions.leave_message(reference=offline, sender_id="b", message="hola equipo")
    assert interactions.handoff(offline).state == "message_left"  # type: ignore[union-attr]
    assert interactions.close_handoff(live)
    assert [h.reference for h in interactions.open_handoffs()] == [offline]


def test_bad_input_is_refused_and_nothing_is_written(store: tuple[InteractionStore, str]) -> None:
    interactions, url = store
    with pytest.raises(ValueError):
        interactions.record_rating(sender_id="s", channel="rest", score=6, comment=None)
    with pytest.raises(ValueError):
        interactions.record_rating(sender_id="s", channel="rest", score=None, comment="  ")
    with pytest.raises(ValueError):
        interactions.record_suggestion(sender_id="s", channel="rest", text="   ")
    assert _dump(url) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mi correo es ana.perez@correo.com", "mi correo es [correo]"),
        ("dni 30.123.456, expediente EXP-2026-000123", "dni [número], expediente EXP-2026-000123"),
        ("rut 12.345.678-K listo", "rut [número] listo"),
        ("curp BOXW310820HNERXN09 y nie X1234567L", "curp [número] y nie [número]"),
        ("llamen al (011) 4555-1234 por favor", "llamen al [número] por favor"),
        ("tengo 2 hijos, el 15 de marzo de 2024", "tengo 2 hijos, el 15 de marzo de 2024"),
        ("como va el exp 2026 000222", "como va el exp 2026 000222"),
    ],
)
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redaction_keeps_case_codes_of_the_configured_prefix() -> None:
    text = "mi trámite MUN-2026-000123, dni 30123456"
    assert redact(text, case_code_prefix="MUN") == "mi trámite MUN-2026-000123, dni [número]"
    # A code with another prefix is not a case code of this deployment.
    assert "EXP-2026-000123" not in redact("EXP-2026-000123", case_code_prefix="MUN")


def test_redaction_trims_long_text() -> None:
    assert len(redact("a " * 5000)) <= 2000


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("deberían poner más colectivos a la noche", "transporte"),
        ("pongan rampas en las esquinas para sillas de ruedas", "accesibilidad"),
        ("estaría bueno sacar turno por WhatsApp", "servicios_digitales"),
        ("más contenedores de reciclaje en mi cuadra", "limpieza"),
        ("que iluminen mejor la costanera", "alumbrado"),
        ("me gustaría algo lindo", "otros"),
    ],
)
def test_suggestion_topics(text: str, topic: str) -> None:
    assert classify_topic(text) == topic
