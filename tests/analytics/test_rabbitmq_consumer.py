"""Production path: Rasa's Pika broker -> RabbitMQ -> the consumer -> PostgreSQL, losing nothing.

Real RabbitMQ (127.0.0.1:5672, guest/guest) and PostgreSQL (a scratch schema). The events are
published by Rasa's own broker in Rasa's interpreter; the consumer runs as its own process,
is killed (SIGKILL, nothing acked for the batch in flight) and stays down while more events
are published; restarted, it must record every conversation exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from backend.analytics.models import AnalyticsDaily, AnalyticsEvent
from backend.analytics.queries import Figures, figures
from backend.analytics.recorder import Recorder
from backend.db import create_schema, make_engine
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


def start_consumer(database: str, queue: str, log: Path, *argv: str) -> subprocess.Popen[bytes]:
    """The consumer (``python -m backend.analytics.consumer``, or ``argv``) in batches of 7."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "VENTANILLA_DATABASE_URL": database,
        "VENTANILLA_RABBITMQ_QUEUE": queue,
        "VENTANILLA_EVENT_BATCH": "7",
    }
    with log.open("ab") as out:
        command = argv or ("-m", "backend.analytics.consumer")
        return subprocess.Popen([str(APP_PY), *command], env=env, stdout=out, stderr=out)


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


def recorded_rows(url: str) -> tuple[Counter[tuple[object, ...]], Counter[tuple[object, ...]]]:
    """Every daily counter and every analytics event (without ids or hashes) in the database."""
    engine = make_engine(url, pool_size=1, max_overflow=0) if url.startswith("postgresql") else make_engine(url)
    try:
        with sessionmaker(engine)() as session:
            daily = Counter(
                {(r.day, r.channel, r.metric, r.key): r.value for r in session.scalars(select(AnalyticsDaily))}
            )
            events = Counter(
                (e.day, e.channel, e.kind, e.intent, e.procedure_id, e.value)
                for e in session.scalars(select(AnalyticsEvent))
            )
    finally:
        engine.dispose()
    return daily, events


def reference_rows(
    scripts: list[Script], folder: Path
) -> tuple[Counter[tuple[object, ...]], Counter[tuple[object, ...]]]:
    """What recording the same events once, in one go, gives (a fresh SQLite database)."""
    url = f"sqlite:///{folder / 'reference.db'}"
    engine = make_engine(url)
    create_schema(engine)
    with sessionmaker(engine)() as session:
        Recorder("r" * 32).record(session, [e for s in scripts for e in s.events])
        session.commit()
    engine.dispose()
    return recorded_rows(url)


def waiting_in(queue: str, expected: int, timeout: float = 20.0) -> int:
    """Messages ready in the queue, once it shows ``expected`` (RabbitMQ requeues a dead consumer's unacked)."""
    import pika

    deadline = time.monotonic() + timeout
    while True:
        connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
        try:
            count = connection.channel().queue_declare(queue, durable=True, passive=True).method.message_count
        finally:
            connection.close()
        if count == expected or time.monotonic() > deadline:
            return int(count)
        time.sleep(0.3)


@pytest.mark.parametrize("mode", ["before_commit", "after_commit"])
def test_a_consumer_killed_mid_batch_loses_and_counts_nothing_twice(
    database: str, queue: str, tmp_path: Path, mode: str
) -> None:
    """SIGKILL in the third batch of 7, after writing its rows (uncommitted, or committed and not acked)."""
    scripts = conversations(0, 12)
    total = sum(len(s.events) for s in scripts)
    publish(queue, scripts)  # all waiting: the consumer takes full batches of 7
    log = tmp_path / "consumer.log"
    dying = start_consumer(database, queue, log, str(Path(__file__).with_name("consumer_dies_mid_batch.py")), mode, "3")
    assert dying.wait(timeout=120) == -signal.SIGKILL, log.read_text()
    assert waiting_in(queue, total - 2 * 7) == total - 2 * 7  # batches 1-2 acked, batch 3 back in the queue
    written = read(database)
    assert written.conversations < 12  # the kill came mid-stream

    consumer = start_consumer(database, queue, log)
    try:
        wait_for(database, 12)
        assert waiting_in(queue, 0) == 0
        time.sleep(1)  # the last batch's commit
    finally:
        consumer.terminate()
        consumer.wait(timeout=20)
    assert consumer.returncode == 0, log.read_text()
    daily, events = recorded_rows(database)
    expected_daily, expected_events = reference_rows(scripts, tmp_path)
    assert daily == expected_daily
    assert events == expected_events
    assert daily[(DAY, "rest", "conversations", "")] == 12 and daily[(DAY, "rest", "answers", "")] == 12
