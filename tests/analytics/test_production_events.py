"""Production profile, end to end: citizens' messages through nginx -> Rasa's Pika broker ->
RabbitMQ -> the cluster's analytics consumer -> PostgreSQL, with the consumer stopped for a
while in between (the events wait in RabbitMQ) and none lost or counted twice.

A minimal cluster (launcher/cluster.py: one Rasa, one action server, one backend behind nginx,
PostgreSQL, Redis, RabbitMQ 127.0.0.1:5672), started as `python -m launcher.cluster` does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from backend.analytics.queries import Figures, figures
from backend.db import make_engine
from launcher.cluster import Cluster, ClusterPorts
from tests.conftest import APP_PY, ROOT, RestChat, require_service
from tests.scaleout.conftest import started_cluster

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def cluster(
    test_model: Path,
    kb_index_dir: Path,
    postgres_url: str,
    redis_address: tuple[str, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    queue = f"ventanilla-analytics-test-{uuid.uuid4().hex[:8]}"
    try:
        with started_cluster(
            model=test_model,
            kb_index_dir=kb_index_dir,
            postgres_url=postgres_url,
            redis_address=redis_address,
            var_dir=tmp_path_factory.mktemp("analytics-cluster"),
            schema="analytics_cluster",
            layout=ClusterPorts.free(rasa=1, actions=1, backends=1),
            extra_env={"VENTANILLA_RABBITMQ_QUEUE": queue},
        ) as running:
            yield running
    finally:
        _delete_queue(queue)


def _delete_queue(name: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    connection.channel().queue_delete(name)
    connection.close()


def read(cluster: Cluster) -> Figures:
    engine = make_engine(cluster.database_url, pool_size=1, max_overflow=0)
    try:
        with sessionmaker(engine)() as session:
            today = datetime.now(UTC).date()
            return figures(session, today, today)
    finally:
        engine.dispose()


def wait_for(cluster: Cluster, conversations: int, timeout: float = 120.0) -> Figures:
    deadline = time.monotonic() + timeout
    while True:
        result = read(cluster)
        if result.conversations >= conversations or time.monotonic() > deadline:
            return result
        time.sleep(1.0)


def ask(cluster: Cluster, n: int) -> None:
    for _ in range(n):
        chat = RestChat(cluster.rasa_url)
        chat.say("que papeles necesito para sacar el pasaporte por primera vez")


def test_events_reach_postgresql_through_rabbitmq_and_survive_a_stopped_consumer(cluster: Cluster) -> None:
    ask(cluster, 2)
    first = wait_for(cluster, 2)
    assert first.conversations == 2 and first.total("answers") == 2, first.totals

    consumer: Any = cluster.process("analytics-consumer")
    os.killpg(consumer.popen.pid, signal.SIGTERM)  # stopped: the events wait in RabbitMQ
    consumer.popen.wait(timeout=30)
    ask(cluster, 3)
    time.sleep(3)
    assert read(cluster).conversations == 2

    restarted = subprocess.Popen(
        [str(APP_PY), "-m", "backend.analytics.consumer"], cwd=ROOT, env=cluster.environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        after = wait_for(cluster, 5)
        time.sleep(3)
        after = read(cluster)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    assert after.conversations == 5 and after.total("answers") == 5, after.totals
    assert after.procedures == [("pasaporte-emision", 5)]
