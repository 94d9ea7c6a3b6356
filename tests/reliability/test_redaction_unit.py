"""Item 8, unit level: every log record is rewritten before a handler sees it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from connectors.common import redaction


@pytest.fixture(autouse=True)
def fresh_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Installs the redaction for one test only (other tests' log assertions stay as they were)."""
    original = logging.getLogRecordFactory()
    monkeypatch.setattr(redaction, "_installed", False)
    yield
    logging.setLogRecordFactory(original)


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    redaction.install()
    caplog.set_level(logging.DEBUG)
    return caplog


def test_patterns_and_remembered_text_are_replaced_in_messages_args_and_tracebacks(
    captured: pytest.LogCaptureFixture,
) -> None:
    redaction.remember("me llamo Rosalía Quiroga Benítez", "Rosalía Quiroga Benítez")
    log = logging.getLogger("some.library")
    log.debug("Received user message %r", "me llamo Rosalía Quiroga Benítez")
    log.debug("slots %s", json.dumps({"full_name": "Rosalía Quiroga Benítez", "contact": "rosa@correo.com"}))
    # Rasa's DEBUG line of an action's events: JSON around the repr of a BotUttered whose data is JSON.
    bot_uttered = f"BotUttered('Revise sus datos', {json.dumps({'full_name': 'Rosalía Quiroga Benítez'})})"
    log.debug("%s", json.dumps({"rasa_events": [bot_uttered]}))
    log.info("doc 30.123.456 phone +54 11 4567-8912 nie X1234567L code EXP-2026-000123")
    try:
        raise ValueError("INSERT failed [parameters: ('Rosalía Quiroga Benítez', 'rosa@correo.com', '31987654')]")
    except ValueError:
        log.exception("case creation failed")
    text = captured.text
    for value in ("Rosalía", "Quiroga", "rosa@correo.com", "30.123.456", "4567-8912", "X1234567L", "31987654"):
        assert value not in text, value
    assert "Rosal\\u00eda" not in text and "Rosal\\\\u00eda" not in text and "Ben\\\\u00edtez" not in text
    assert "EXP-2026-000123" in text and "[texto del ciudadano]" in text and "[correo]" in text


def test_install_is_idempotent() -> None:
    redaction.install()
    factory = logging.getLogRecordFactory()
    redaction.install()
    assert logging.getLogRecordFactory() is factory
