"""Backend replicas share one notification outbox without waiting for each other.

PostgreSQL only: a second dispatcher (another backend replica) claiming while the first
holds a row must skip that row and take the next one (``FOR UPDATE SKIP LOCKED``), not
block behind it. That no notification is sent twice by two real backends is tested in
test_cluster.py; several dispatchers on SQLite and PostgreSQL in tests/backend/test_dispatcher.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from backend.db import create_schema, make_engine
from backend.dispatcher import Claimed, OutboxStore
from backend.models import NotificationOutbox
from backend.repository import SqlCaseRepository
from backend.scratch_schema import scratch_schema
from tests.backend.conftest import HASH_KEY, backend_settings
from tests.backend.test_dispatcher import _changed_case

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[tuple[str, Engine]]:
    with scratch_schema(postgres_url, "claims") as url:
        engine = make_engine(url)
        create_schema(engine)
        yield url, engine
        engine.dispose()


def test_a_second_dispatcher_skips_the_row_the_first_is_claiming(pg_engine: tuple[str, Engine]) -> None:
    url, engine = pg_engine
    repo = SqlCaseRepository(engine, hash_key=HASH_KEY)
    for n in range(2):
        _changed_case(repo, engine, n, sender=f"tg-{n}")
    store = OutboxStore(engine, backend_settings(url))
    result: list[Claimed] = []

    with engine.connect() as first:
        transaction = first.begin()
        [held] = first.scalars(
            select(NotificationOutbox.id).order_by(NotificationOutbox.id).limit(1).with_for_update()
        ).all()
        second = threading.Thread(target=lambda: result.extend(store.claim_due(1)), daemon=True)
        second.start()
        second.join(timeout=15)
        blocked = second.is_alive()
        transaction.rollback()
    second.join(timeout=15)
    assert not blocked, "the second dispatcher waited for the row the first one holds"
    [claimed] = result
    assert claimed.outbox_id != held
