"""Rasa's Pika broker under ``--debug`` logging: no citizen's words or sender id in the log.

Rasa 3.6's ``PikaEventBroker`` logs every event it sends (DEBUG) and every event it fails to
send (ERROR) with the event's text. The events go through the broker bot/endpoints.yml builds
(connectors/event_broker.py), in Rasa's interpreter, with logging configured as ``rasa run
--debug`` does, to the real RabbitMQ; then one send fails. The log must show the broker
worked (and the failure, reworded) without the texts.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pika
import pytest

from tests.analytics.events import Script
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
SENDER = "5491155550123"  # a WhatsApp sender id is the citizen's phone number
WORDS = "Zacarias Quiroga"


def test_debug_log_has_no_event_texts_from_the_broker(queue: str) -> None:
    script = Script(SENDER, 1795132800.0, channel="whatsapp").session()
    script.user(f"quiero renovar la licencia, soy {WORDS}", "ask_procedure").action("action_answer_procedure")
    script.bot("utter_kb_answer").user(f"gracias, {WORDS} otra vez", "thank")
    lines = "\n".join(json.dumps(event) for event in script.events)
    result = subprocess.run(
        [str(RASA_PY), str(Path(__file__).with_name("rasa_broker_debug.py")), queue],
        input=lines.encode(),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=180,
        check=False,
    )
    log = (result.stdout + result.stderr).decode()
    assert result.returncode == 0, log[-3000:]

    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    try:
        waiting = connection.channel().queue_declare(queue, durable=True, passive=True).method.message_count
    finally:
        connection.close()
    assert waiting == len(script.events) - 1  # the broker did publish (all but the refused one)
    assert "DEBUG" in log  # Rasa's debug logging was on
    for secret in (WORDS, "Zacar", SENDER, json.dumps(WORDS)[1:-1]):
        assert secret not in log, f"{secret!r} in the log"
    assert "could not be sent to RabbitMQ (kept to resend; content not logged)" in log  # the failure, reworded
