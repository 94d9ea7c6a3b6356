"""The notification outbox and its dispatcher, over real SQL and real HTTP (a fake Rasa).

The end-to-end test with the real Rasa and a real channel is in
test_notifications_e2e.py; these tests cover failure timing precisely and cheaply.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from backend import casework
from backend.dispatcher import Dispatcher, RasaNotifier, backoff_seconds
from backend.models import Case, NotificationOutbox, OutboxState
from backend.repository import SqlCaseRepository
from backend.settings import BackendSettings
from tests.backend.conftest import OFFICER_TOKEN, Database, ServedApp, backend_settings, new_case
from tests.backend.recorder import FakeRasa


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa().start()
    yield fake
    fake.stop()


def _settings(database: Database, rasa_url: str, **overrides: object) -> BackendSettings:
    values: dict[str, object] = {
        "rasa_url": rasa_url,
        "notify_backoff_base_seconds": 0.01,
        "notify_backoff_max_seconds": 0.05,
        "notify_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return backend_settings(database.url, **values)


def _changed_case(repo: SqlCaseRepository, engine: Engine, n: int = 1, sender: str = "tg-42") -> str:
    code = repo.open_case(new_case(n, sender=sender, channel="telegram"))
    with Session(engine) as session, session.begin():
        casework.change_status(session, code=code, to_status="en_revision", note=None, actor="Olga")
    return code


def _outbox(engine: Engine) -> list[NotificationOutbox]:
    with Session(engine) as session:
        return list(session.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)).all())


async def _drain(dispatcher: Dispatcher, settings: BackendSettings, rounds: int = 200) -> None:
    """Runs dispatcher rounds until nothing is pending (bounded)."""
    async with httpx.AsyncClient(timeout=5) as client:
        notifier = RasaNotifier(client, settings)
        for _ in range(rounds):
            await dispatcher.run_once(notifier)
            states = {row.state for row in await asyncio.to_thread(_outbox, dispatcher.store.engine)}
            if not states & {OutboxState.PENDING, OutboxState.IN_PROGRESS}:
                return
            await asyncio.sleep(0.01)


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_seconds(n, base=1.0, cap=30.0) for n in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0 and 4.0 <= delays[3] <= 8.0
    assert max(delays) <= 30.0


def test_a_notification_is_sent_once_with_the_case_and_status(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    code = _changed_case(repo, engine)
    settings = _settings(database, fake_rasa.url)
    dispatcher = Dispatcher(engine, settings)
    asyncio.run(_drain(dispatcher, settings))
    asyncio.run(_drain(dispatcher, settings, rounds=3))  # nothing more to send
    [call] = fake_rasa.calls
    assert call.path == "/conversations/tg-42/trigger_intent"
    assert call.query == {"output_channel": ["telegram"]}
    assert call.body == {
        "name": "case_status_changed",
        "entities": {"notified_case_code": code, "notified_status": "en revisión"},
    }
    [row] = _outbox(engine)
    assert (row.state, row.attempts, row.claim_token) == (OutboxState.DELIVERED, 1, None)
    assert row.delivered_at is not None


def test_rasa_errors_are_retried_until_delivered_once(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    _changed_case(repo, engine)
    fake_rasa.fail_next = 3
    settings = _settings(database, fake_rasa.url)
    asyncio.run(_drain(Dispatcher(engine, settings), settings))
    assert [c.answered for c in fake_rasa.calls] == [500, 500, 500, 200]
    [row] = _outbox(engine)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.DELIVERED, 4, None)


def test_rasa_down_delays_the_notification_but_does_not_lose_it(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    _changed_case(repo, engine)
    fake_rasa.stop()  # nothing listens on the port: connection refused
    settings = _settings(database, fake_rasa.url)
    dispatcher = Dispatcher(engine, settings)
    asyncio.run(_drain(dispatcher, settings, rounds=15))
    [row] = _outbox(engine)
    assert row.state == OutboxState.PENDING and row.attempts >= 2 and row.last_error == "ConnectError"
    fake_rasa.start()
    asyncio.run(_drain(dispatcher, settings))
    assert len(fake_rasa.delivered()) == 1 and len(fake_rasa.calls) == 1
    assert _outbox(engine)[0].state == OutboxState.DELIVERED


@pytest.mark.parametrize(
    ("tracker", "reason"),
    [
        ({"paused": False, "active_loop": {"name": "open_case_form"}}, "deferred: conversation in a form"),
        ({"paused": True, "active_loop": {}}, "deferred: conversation with a person"),
    ],
)
def test_a_busy_conversation_is_not_interrupted(
    repo: SqlCaseRepository,
    engine: Engine,
    database: Database,
    fake_rasa: FakeRasa,
    tracker: dict[str, object],
    reason: str,
) -> None:
    _changed_case(repo, engine)
    fake_rasa.tracker = tracker
    settings = _settings(database, fake_rasa.url, notify_defer_seconds=0.05)
    dispatcher = Dispatcher(engine, settings)
    asyncio.run(_drain(dispatcher, settings, rounds=10))
    [row] = _outbox(engine)
    assert fake_rasa.calls == [] and len(fake_rasa.gets) >= 2
    assert (row.state, row.attempts, row.last_error) == (OutboxState.PENDING, 0, reason)
    assert fake_rasa.gets[0] == "/conversations/tg-42/tracker?include_events=NONE"
    fake_rasa.tracker = {"paused": False, "active_loop": {}}  # the form ended
    asyncio.run(_drain(dispatcher, settings))
    assert len(fake_rasa.delivered()) == 1 and _outbox(engine)[0].state == OutboxState.DELIVERED


def test_a_notification_deferred_too_long_is_delivered_anyway(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    _changed_case(repo, engine)
    fake_rasa.tracker = {"paused": False, "active_loop": {"name": "open_case_form"}}
    settings = _settings(database, fake_rasa.url, notify_max_defer_seconds=0)
    asyncio.run(_drain(Dispatcher(engine, settings), settings))
    assert len(fake_rasa.delivered()) == 1 and fake_rasa.gets == []


def test_after_too_many_attempts_the_notification_is_parked_as_failed(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    _changed_case(repo, engine)
    fake_rasa.fail_next = 100
    settings = _settings(database, fake_rasa.url, notify_max_attempts=3)
    asyncio.run(_drain(Dispatcher(engine, settings), settings))
    [row] = _outbox(engine)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.FAILED, 3, "HTTP 500")
    assert len(fake_rasa.calls) == 3


def test_a_notification_whose_citizen_was_erased_is_cancelled(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    _changed_case(repo, engine)
    with Session(engine) as session, session.begin():
        session.execute(update(Case).values(sender_id=None))
    settings = _settings(database, fake_rasa.url)
    asyncio.run(_drain(Dispatcher(engine, settings), settings))
    assert fake_rasa.calls == []
    assert _outbox(engine)[0].state == OutboxState.CANCELLED


def test_several_dispatchers_deliver_each_notification_exactly_once(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    codes = [_changed_case(repo, engine, n, sender=f"tg-{n}") for n in range(20)]
    fake_rasa.fail_next = 5  # some first attempts fail, to mix retries with competition
    settings = _settings(database, fake_rasa.url)
    barrier = threading.Barrier(3)

    def run_dispatcher() -> None:
        barrier.wait()
        asyncio.run(_drain(Dispatcher(engine, settings), settings))

    threads = [threading.Thread(target=run_dispatcher) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    delivered = [c.body["entities"]["notified_case_code"] for c in fake_rasa.delivered()]
    assert sorted(delivered) == sorted(codes)  # every one, none twice
    assert {row.state for row in _outbox(engine)} == {OutboxState.DELIVERED}


def test_a_claim_whose_dispatcher_died_is_taken_over_after_its_lease(
    repo: SqlCaseRepository, engine: Engine, database: Database, fake_rasa: FakeRasa
) -> None:
    _changed_case(repo, engine)
    settings = _settings(database, fake_rasa.url, notify_lease_seconds=30)
    store = Dispatcher(engine, settings).store
    [dead] = store.claim_due()
    assert store.claim_due() == []  # held: nobody else may take it
    later = datetime.now(timezone.utc) + timedelta(seconds=31)
    [again] = store.claim_due(now=later)
    assert again.claim_token != dead.claim_token
    assert store.mark_delivered(dead) is False  # the dead claim can no longer finish it
    assert store.mark_delivered(again) is True
    assert _outbox(engine)[0].state == OutboxState.DELIVERED


def test_the_backend_process_runs_the_dispatcher_in_the_background(database: Database, fake_rasa: FakeRasa) -> None:
    """Status change through the staff API -> the running backend notifies Rasa by itself."""
    settings = _settings(database, fake_rasa.url, notify_enabled=True, notify_poll_seconds=0.1)
    fake_rasa.fail_next = 1
    with ServedApp(settings) as served:
        repo = SqlCaseRepository(served.server.config.app.state.ventanilla.engine, hash_key=settings.case_hash_key)
        code = repo.open_case(new_case(1, channel="telegram"))
        response = httpx.post(
            f"{served.url}/staff/cases/{code}/status",
            json={"status": "en_revision"},
            headers={"Authorization": f"Bearer {OFFICER_TOKEN}"},
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 20
        while not fake_rasa.delivered() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a few more rounds: nothing else may be sent
    assert [c.answered for c in fake_rasa.calls] == [500, 200]
    assert fake_rasa.delivered()[0].body["entities"]["notified_case_code"] == code
