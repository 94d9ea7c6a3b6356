"""Production path: Rasa's Pika broker -> RabbitMQ -> the consumer -> PostgreSQL, losing nothing.

Real RabbitMQ (127.0.0.1:5672, guest/guest) and PostgreSQL (a scratch schema). The events are
published by Rasa's own broker in Rasa's interpreter; the consumer runs as its own process,
is killed (SIGKILL, nothing acked for the batch in flight) and stays down while more events
are published; restarted, it must record every conversation exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from backend.analytics.queries import Figures, figures
from backend.db import make_engine
from backend.scratch_schema import scratch_schema
from tests.analytics.events import Script
from tests.conftest import APP_PY, ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
DAY = date(2026, 11, 20)
START = 1795132800.0


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    with scratch_schema(postgres_url, prefix="analytics") as url:
        yield url


def publish(queue: str, scripts: list[Script], kind: str = "pika") -> None:
    """Through the broker Rasa builds from bot/endpoints.yml, in Rasa's interpreter."""
    lines = "\n".join(json.dumps(e) for s in scripts for e in s.events)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [str(RASA_PY), str(Path(__file__).with_name("rasa_publish.py")), kind, queue],
        input=lines.encode(),
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )


def start_consumer(database: str, queue: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "VENTANILLA_DATABASE_URL": database,
        "VENTANILLA_RABBITMQ_QUEUE": queue,
        "VENTANILLA_EVENT_BATCH": "7",
    }
    with log.open("ab") as out:
        return subprocess.Popen([str(APP_PY), "-m", "backend.analytics.consumer"], env=env, stdout=out, stderr=out)


def read(database: str) -> Figures:
    engine = make_engine(database, pool_size=1, max_overflow=0)
    try:
        with sessionmaker(engine)() as session:
            return figures(session, DAY, DAY)
    finally:
        engine.dispose()


def wait_for(database: str, conversations: int, timeout: float = 60.0) -> Figures:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = read(database)
        except Exception:  # noqa: BLE001 - the consumer creates the tables when it starts
            result = None
        if result is not None and result.conversations >= conversations:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"only {result and result.conversations} conversations after {timeout} s")
        time.sleep(0.5)


def conversations(first: int, count: int) -> list[Script]:
    out = []
    for n in range(first, first + count):
        script = Script(f"citizen-{n}", START + n * 60).session().answered()
        if n % 2:
            script.abstained()
        out.append(script)
    return out


def test_events_survive_the_consumer_being_stopped(database: str, queue: str, tmp_path: Path) -> None:
    log = tmp_path / "consumer.log"
    consumer = start_consumer(database, queue, log)
    try:
        publish(queue, conversations(0, 10))
        wait_for(database, 10)
        consumer.kill()  # SIGKILL: whatever it held unacked goes back to the queue
        consumer.wait(timeout=10)
        publish(queue, conversations(10, 20))  # published while nobody reads the queue
        time.sleep(2)
        assert read(database).conversations == 10
        consumer = start_consumer(database, queue, log)
        result = wait_for(database, 30)
        time.sleep(2)  # would anything be counted twice?
        result = read(database)
    finally:
        consumer.terminate()
        consumer.wait(timeout=20)
    assert consumer.returncode == 0, log.read_text()
    assert result.conversations == 30
    assert result.total("answers") == 30 and result.total("abstentions") == 15
    assert result.total("messages_in") == 45 and result.total("contained") == 15
    assert result.procedures == [("pasaporte-emision", 30)]
