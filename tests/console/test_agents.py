"""Live agents in the console: inbox, taking (first one wins, in SQL), messages, handing back.

SQLite and PostgreSQL through the real app; Rasa's HTTP API is replaced by a small
in-memory stand-in that keeps each conversation's events the way Rasa's tracker does
(the real round trip through Rasa and a channel is tests/backend/test_notifications_e2e.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text, update

from backend.accounts.roles import Role
from backend.api import create_app
from backend.console.routes_agents import HANDED_BACK, rasa, senders_of
from backend.interaction_models import HandoffRequest, HandoffState
from backend.interactions import interaction_sender_hash
from backend.livechat import handoffs, upkeep
from backend.livechat.rasa_api import AGENT_MARK, RasaUnavailable
from backend.models import AuditEvent
from backend.scratch_schema import scratch_schema
from tests.console.conftest import ConsoleClient, console_settings, seed

KEY = "test-hash-key-0123456789abcdef0123456789"  # tests.console.conftest.console_settings' case_hash_key
USERS = {
    "agus": frozenset({Role.AGENT}),
    "alba": frozenset({Role.AGENT}),
    "oscar": frozenset({Role.CASE_OFFICER, Role.EDITOR, Role.ADMIN}),
}


class FakeRasa:
    """Rasa's tracker events per sender, and what the console asked Rasa to do."""

    def __init__(self) -> None:
        self.log: dict[str, list[dict[str, Any]]] = {}
        self.sent: list[tuple[str, str, str]] = []  # (sender, channel, text) that went to a channel
        self.paused: set[str] = set()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise RasaUnavailable("ConnectError")

    def citizen_says(self, sender: str, text: str) -> None:
        self.log.setdefault(sender, []).append({"event": "user", "text": text, "timestamp": time.time()})

    # the RasaConversations interface
    def events(self, sender_id: str) -> list[dict[str, Any]]:
        self._check()
        return list(self.log.get(sender_id, []))

    def pause(self, sender_id: str) -> None:
        self._check()
        self.paused.add(sender_id)

    def say(self, sender_id: str, channel: str, text: str, *, agent: str) -> None:
        self._check()
        self.sent.append((sender_id, channel, text))
        bot = {"event": "bot", "text": text, "timestamp": time.time(), "metadata": {AGENT_MARK: agent}}
        self.log.setdefault(sender_id, []).append(bot)

    def resume(self, sender_id: str, channel: str, farewell: str) -> None:
        self._check()
        self.sent.append((sender_id, channel, farewell))
        self.paused.discard(sender_id)


def _app(settings: Any, fake: FakeRasa) -> Iterator[FastAPI]:
    app = create_app(settings, run_dispatcher=False)
    app.dependency_overrides[rasa] = lambda: fake
    with TestClient(app):
        seed(app, USERS, with_content=False)
        yield app
    app.state.ventanilla.engine.dispose()


@pytest.fixture(scope="module")
def fake() -> FakeRasa:
    return FakeRasa()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, fake: FakeRasa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var_dir = tmp_path_factory.mktemp("agents")
    if request.param == "sqlite":
        yield from _app(console_settings(var_dir), fake)
        return
    with scratch_schema(request.getfixturevalue("postgres_url"), prefix="agents") as url:
        yield from _app(console_settings(var_dir, database_url=url), fake)


def add_handoff(
    app: FastAPI, *, state: str = HandoffState.WAITING_AGENT, channel: str = "telegram", in_tracker: bool = True
) -> tuple[int, str]:
    sender = f"tg-{uuid.uuid4().hex[:10]}"
    now = datetime.now(timezone.utc)
    with app.state.ventanilla.sessions() as db:
        row = HandoffRequest(
            reference=uuid.uuid4().hex[:8].upper(),
            created_at=now,
            updated_at=now,
            state=state,
            during_office_hours=state == HandoffState.WAITING_AGENT,
            channel=channel,
            sender_hash=interaction_sender_hash(KEY, sender),
            summary="Motivo: el ciudadano pidió hablar con una persona\nÚltimos mensajes del ciudadano:\n- hola",
        )
        db.add(row)
        db.commit()
        handoff_id = row.id
    if in_tracker:
        tracker_event(app, sender)
    return handoff_id, sender


def tracker_event(app: FastAPI, sender: str) -> None:
    """A row in Rasa's SQL tracker store (its ``events`` table), as Rasa writes it."""
    engine = create_engine(app.state.ventanilla.settings.effective_tracker_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                    "action_name VARCHAR(255), data TEXT)"
                )
            )
            conn.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')"),
                {"s": sender, "t": time.time()},
            )
    finally:
        engine.dispose()


def client(app: FastAPI, username: str) -> ConsoleClient:
    browser = ConsoleClient(app)
    assert browser.login(username).status_code == 303
    return browser


def test_an_agent_takes_talks_and_hands_back(app: FastAPI, fake: FakeRasa) -> None:
    handoff_id, sender = add_handoff(app)
    fake.citizen_says(sender, "mi correo es ana.perez@correo.com y quiero hablar con alguien")
    agus, alba = client(app, "agus"), client(app, "alba")

    inbox = agus.get("/console/handoffs").text
    assert f"/console/handoffs/{handoff_id}/take" in inbox and "pidió hablar con una persona" in inbox
    before = agus.get(f"/console/handoffs/{handoff_id}").text
    assert "ana.perez@correo.com" not in before and "quiero hablar con alguien" in before  # history is redacted

    assert agus.post(f"/console/handoffs/{handoff_id}/take").status_code == 303
    assert sender in fake.paused
    lost = alba.post(f"/console/handoffs/{handoff_id}/take")
    assert lost.status_code == 409 and "agus" in lost.text
    assert f"/console/handoffs/{handoff_id}/take" not in alba.get("/console/handoffs").text  # gone from the queue

    page = agus.get(f"/console/handoffs/{handoff_id}").text
    assert 'hx-trigger="every 1s"' in page and f'hx-get="/console/handoffs/{handoff_id}/turns"' in page
    sent = agus.post(f"/console/handoffs/{handoff_id}/messages", {"text": "Hola, soy Agus. ¿En qué le ayudo?"})
    assert sent.status_code == 303
    assert fake.sent[-1] == (sender, "telegram", "Hola, soy Agus. ¿En qué le ayudo?")
    htmx = agus.post(f"/console/handoffs/{handoff_id}/messages", {"text": "  "}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "Escriba el mensaje" in htmx.text
    assert [text for who, _, text in fake.sent if who == sender] == ["Hola, soy Agus. ¿En qué le ayudo?"]

    fake.citizen_says(sender, "Necesito el turno, mi teléfono es 11 5555 1234")
    panel = agus.get(f"/console/handoffs/{handoff_id}/turns").text
    assert "Hola, soy Agus" in panel and "11 5555 1234" in panel  # the live chat is shown as written
    assert panel.index("Hola, soy Agus") < panel.index("Necesito el turno")

    assert alba.post(f"/console/handoffs/{handoff_id}/messages", {"text": "yo también"}).status_code == 409
    assert alba.post(f"/console/handoffs/{handoff_id}/release").status_code == 409

    back = agus.post(f"/console/handoffs/{handoff_id}/release")
    assert back.status_code == 303 and back.headers["location"] == "/console/handoffs?done=handed_back"
    assert fake.sent[-1] == (sender, "telegram", HANDED_BACK) and sender not in fake.paused
    with app.state.ventanilla.sessions() as db:
        row = db.get(HandoffRequest, handoff_id)
        assert row is not None and row.state == HandoffState.CLOSED
        actions = [
            e.action
            for e in db.scalars(select(AuditEvent).where(AuditEvent.action.like("handoff.%")))
            if e.details.get("handoff_id") == handoff_id
        ]
    assert sorted(actions) == ["handoff.handed_back", "handoff.message_sent", "handoff.taken"]


def _race(sessions: Any, handoff_id: int) -> list[str]:
    """Two agents take the same request at the same instant; returns who got it."""
    barrier = threading.Barrier(2)
    winners: list[str] = []
    losers: list[str] = []

    def attempt(agent: str) -> None:
        barrier.wait()
        try:
            with sessions() as db:
                handoffs.take(db, handoff_id=handoff_id, agent=agent)
                db.commit()
            winners.append(agent)
        except handoffs.AlreadyTaken:
            losers.append(agent)

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("agus", "alba")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(losers) == 1, (winners, losers)  # the loser was told, not crashed
    return winners


def test_two_agents_taking_at_once_only_one_gets_it(app: FastAPI) -> None:
    sessions = app.state.ventanilla.sessions
    for _ in range(3):
        handoff_id, _sender = add_handoff(app, state=HandoffState.MESSAGE_LEFT)
        winners = _race(sessions, handoff_id)
        assert len(winners) == 1
        with sessions() as db:
            assert db.get(HandoffRequest, handoff_id).taken_by == winners[0]  # type: ignore[union-attr]


def test_a_failed_pause_leaves_the_request_in_the_queue(app: FastAPI, fake: FakeRasa) -> None:
    handoff_id, _ = add_handoff(app)
    agus = client(app, "agus")
    fake.down = True
    try:
        refused = agus.post(f"/console/handoffs/{handoff_id}/take")
    finally:
        fake.down = False
    assert refused.status_code == 503 and "No pudimos comunicarnos" in refused.text
    with app.state.ventanilla.sessions() as db:
        row = db.get(HandoffRequest, handoff_id)
        assert row is not None and row.state == HandoffState.WAITING_AGENT and row.taken_by is None


def test_only_agents_reach_the_live_chat(app: FastAPI) -> None:
    handoff_id, _ = add_handoff(app)
    other = client(app, "oscar")
    for url in ("/console/handoffs", f"/console/handoffs/{handoff_id}", f"/console/handoffs/{handoff_id}/turns"):
        assert other.get(url).status_code == 403, url
    assert other.post(f"/console/handoffs/{handoff_id}/take").status_code == 403
    with app.state.ventanilla.sessions() as db:
        assert db.get(HandoffRequest, handoff_id).taken_by is None  # type: ignore[union-attr]


def test_a_request_whose_conversation_is_gone_cannot_be_taken(app: FastAPI) -> None:
    """Retention may have deleted the conversation from Rasa's store: say so, take nothing."""
    handoff_id, _ = add_handoff(app, in_tracker=False)
    refused = client(app, "agus").post(f"/console/handoffs/{handoff_id}/take")
    assert refused.status_code == 409 and "No encontramos esta conversación" in refused.text
    with app.state.ventanilla.sessions() as db:
        assert db.get(HandoffRequest, handoff_id).taken_by is None  # type: ignore[union-attr]


def _age(app: FastAPI, handoff_id: int, *, minutes: float, column: str = "created_at") -> None:
    old = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    with app.state.ventanilla.sessions() as db:
        db.execute(update(HandoffRequest).where(HandoffRequest.id == handoff_id).values({column: old}))
        db.commit()


def _upkeep(app: FastAPI, fake: FakeRasa, *, later: timedelta = timedelta(0)) -> upkeep.Outcome:
    """One upkeep round, as it would run ``later`` from now."""
    rules = upkeep.rules_of(expire_minutes=30, session_minutes=60)
    with app.state.ventanilla.sessions.begin() as db:
        return upkeep.run_once(db, fake, senders_of(app), rules, now=datetime.now(timezone.utc) + later)


def _state(app: FastAPI, handoff_id: int) -> str:
    with app.state.ventanilla.sessions() as db:
        return handoffs.get(db, handoff_id).state


def test_a_request_nobody_takes_expires_into_a_left_message(app: FastAPI, fake: FakeRasa) -> None:
    stale, sender = add_handoff(app)
    fresh, _ = add_handoff(app)
    _age(app, fresh, minutes=-20)  # asked 11 minutes before the upkeep round below, 31 minutes from now
    fake.paused.add(sender)
    fake.down = True
    try:
        deferred = _upkeep(app, fake, later=timedelta(minutes=31)).deferred
    finally:
        fake.down = False
    assert deferred >= 1 and _state(app, stale) == HandoffState.WAITING_AGENT  # tried again next round
    assert _upkeep(app, fake, later=timedelta(minutes=31)).expired >= 1
    assert _state(app, stale) == HandoffState.MESSAGE_LEFT and _state(app, fresh) == HandoffState.WAITING_AGENT
    assert fake.sent[-1] == (sender, "telegram", upkeep.EXPIRED) and sender not in fake.paused
    assert "le responderá más tarde" in upkeep.EXPIRED
    with app.state.ventanilla.sessions() as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "handoff.expired")) is not None
    page = client(app, "agus").get("/console/handoffs").text
    assert "dejó un mensaje fuera de horario" in page or f"/console/handoffs/{stale}/take" in page  # answerable later


def test_new_requests_show_in_the_title_count_and_a_live_region(app: FastAPI) -> None:
    add_handoff(app)
    with app.state.ventanilla.sessions() as db:
        live = handoffs.waiting_live(db)
    agus = client(app, "agus")
    page = agus.get("/console/handoffs").text
    assert 'hx-get="/console/handoffs/waiting"' in page and 'aria-live="polite"' in page
    assert "/console/static/handoff_alert.js" in page and f'data-waiting="{live}"' in page
    add_handoff(app)
    fragment = agus.get("/console/handoffs/waiting")
    assert fragment.status_code == 200 and f'data-waiting="{live + 1}"' in fragment.text
    assert agus.get("/console/static/handoff_alert.js").status_code == 200
    assert client(app, "oscar").get("/console/handoffs/waiting").status_code in (403, 303)  # agents only


def test_a_taken_conversation_rasa_resumed_by_itself_is_shown_returned(app: FastAPI, fake: FakeRasa) -> None:
    idle, idle_sender = add_handoff(app)
    busy, busy_sender = add_handoff(app)
    agus = client(app, "agus")
    for handoff_id in (idle, busy):
        assert agus.post(f"/console/handoffs/{handoff_id}/take").status_code == 303
        _age(app, handoff_id, minutes=61, column="updated_at")
    fake.log[idle_sender] = [{"event": "user", "text": "hola", "timestamp": time.time() - 62 * 60}]
    fake.citizen_says(busy_sender, "sigo aquí")  # the citizen wrote a minute ago: still the agent's
    assert _upkeep(app, fake).returned >= 1
    assert _state(app, idle) == HandoffState.RETURNED and _state(app, busy) == HandoffState.TAKEN
    page = agus.get(f"/console/handoffs/{idle}").text
    assert "El asistente retomó esta conversación" in page
    refused = agus.post(f"/console/handoffs/{idle}/messages", {"text": "¿Sigue ahí?"})
    assert refused.status_code == 409 and all(who != idle_sender for who, _, _ in fake.sent)


def test_whatsapp_free_text_after_24_hours_is_refused_not_pretended(app: FastAPI, fake: FakeRasa) -> None:
    handoff_id, sender = add_handoff(app, channel="whatsapp")
    agus = client(app, "agus")
    assert agus.post(f"/console/handoffs/{handoff_id}/take").status_code == 303
    fake.log[sender] = [{"event": "user", "text": "hola", "timestamp": time.time() - 25 * 3600}]
    refused = agus.post(f"/console/handoffs/{handoff_id}/messages", {"text": "Buenas, ¿sigue necesitando ayuda?"})
    assert refused.status_code == 409 and "24 horas" in refused.text and "No se envió" in refused.text
    assert all(who != sender for who, _, _ in fake.sent)
    htmx = agus.post(f"/console/handoffs/{handoff_id}/messages", {"text": "¿Hola?"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "24 horas" in htmx.text
    fake.citizen_says(sender, "sí, sigo")  # the citizen wrote: the window is open again
    assert agus.post(f"/console/handoffs/{handoff_id}/messages", {"text": "Perfecto."}).status_code == 303
    assert fake.sent[-1] == (sender, "whatsapp", "Perfecto.")
