"""Fixtures of the case-store tests: a real database (SQLite file, or a fresh
PostgreSQL schema per test), the SQL repository over it, and the real backend app
served by uvicorn on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from backend.api import create_app
from backend.db import create_schema, make_engine
from backend.repository import NewCase, SqlCaseRepository, submission_key
from backend.scratch_schema import scratch_schema
from backend.settings import BackendSettings
from launcher.stack import free_port

HASH_KEY = "test-hash-key-0123456789abcdef0123456789"
SERVICE_TOKEN = "test-service-token-0123456789abcdef"
OFFICER_TOKEN = "officer-token-0123456789"
ADMIN_TOKEN = "admin-token-0123456789ab"
STAFF_TOKENS = f"{OFFICER_TOKEN}:officer:Olga Oficial,{ADMIN_TOKEN}:admin"


@dataclass
class Database:
    """A scratch database: its URL (usable by other processes) and its kind."""

    url: str
    kind: str  # "sqlite" | "postgres"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The same test on SQLite (the default store) and on PostgreSQL."""
    if request.param == "sqlite":
        yield Database(f"sqlite:///{tmp_path / 'cases.db'}", "sqlite")
        return
    base = request.getfixturevalue("postgres_url")
    with scratch_schema(base) as url:
        yield Database(url, "postgres")


@pytest.fixture
def tracker_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch Rasa tracker store for the console scripts started by the test."""
    path = tmp_path / "rasa_tracker.db"
    monkeypatch.setenv("VENTANILLA_TRACKER_DIALECT", "sqlite")
    monkeypatch.setenv("VENTANILLA_TRACKER_DB", str(path))
    return path


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[Database]:
    """PostgreSQL only (acceptance tests that are about PostgreSQL)."""
    with scratch_schema(postgres_url) as url:
        yield Database(url, "postgres")


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    eng = make_engine(database.url)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def repo(engine: Engine) -> SqlCaseRepository:
    return SqlCaseRepository(engine, hash_key=HASH_KEY)


def new_case(
    n: int | str = 1,
    *,
    document: str = "30123456",
    sender: str = "sender-1",
    channel: str = "callback",
    procedure: str = "certificado-residencia",
    notify: bool = True,
) -> NewCase:
    """A valid submission; ``n`` makes its idempotency key unique."""
    return NewCase(
        procedure_id=procedure,
        full_name="Ana María Pérez",
        document_number=document,
        contact="ana.perez@correo.com",
        channel=channel,
        sender_id=sender,
        idempotency_key=submission_key(sender, procedure, document, str(n)),
        notify_opt_in=notify,
    )


def backend_settings(database_url: str, **overrides: object) -> BackendSettings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "case_hash_key": HASH_KEY,
        "case_service_token": SERVICE_TOKEN,
        "staff_tokens": STAFF_TOKENS,
        "notify_enabled": False,
        "content_seed_on_start": False,  # these tests are about cases; seeding takes seconds
    }
    values.update(overrides)
    return BackendSettings(**values)  # type: ignore[arg-type]


@dataclass
class LiveBackend:
    url: str
    settings: BackendSettings


class ServedApp:
    """A FastAPI app served by a real uvicorn server in a thread, on a free port."""

    def __init__(self, settings: BackendSettings, **app_kwargs: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, **app_kwargs),  # type: ignore[arg-type]
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the backend did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def live_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBackend]:
    """The real backend app (SQLite), served by uvicorn; shared by a module's tests."""
    folder = tmp_path_factory.mktemp("live-backend")
    settings = backend_settings(f"sqlite:///{folder / 'cases.db'}")
    with ServedApp(settings) as served:
        yield LiveBackend(served.url, settings)
