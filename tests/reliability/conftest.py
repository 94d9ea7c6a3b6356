"""The fault-injection stack: one Ventanilla whose parts the reliability tests break.

Started once for the reliability tests that kill, hang or cut something (the other
reliability tests use the shared ``stack``). It has:

* Telegram and WhatsApp pointed at the fake Bot API and Graph API servers;
* the channel store in Redis (``VENTANILLA_REDIS_URL``), as a multi-server deployment;
* the case store in its own PostgreSQL database, reached through a :class:`TcpCutter`
  so a test can take the database down mid-transaction;
* every process logging at DEBUG (``VENTANILLA_LOG_LEVEL``), so the personal-data
  check reads the most talkative logs there are;
* an action-server deadline of 3 s (``VENTANILLA_ACTION_TIMEOUT_SECONDS``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.channels.conftest import channel_env
from tests.channels.fakes import FakeGraph, FakeTelegram
from tests.conftest import POSTGRES_URL, require_service, started_stack
from tests.reliability.faults import TcpCutter


@pytest.fixture(scope="session")
def case_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the fault stack's cases (dropped afterwards)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"ventanilla_rel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def db_cutter(case_database: str) -> Iterator[TcpCutter]:
    cutter = TcpCutter("127.0.0.1", 5432)
    yield cutter
    cutter.stop()


def direct_case_db_url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(scope="session")
def fault_stack(
    test_model: Path,
    kb_index_dir: Path,
    fake_telegram: FakeTelegram,
    fake_graph: FakeGraph,
    case_database: str,
    db_cutter: TcpCutter,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    require_service("Redis", "127.0.0.1", 6379)
    env = {
        **channel_env(fake_telegram, fake_graph),
        "VENTANILLA_REDIS_URL": "redis://127.0.0.1:6379/0",
        "VENTANILLA_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{db_cutter.port}/{case_database}?sslmode=disable",
        "VENTANILLA_LOG_LEVEL": "DEBUG",
        "VENTANILLA_ACTION_TIMEOUT_SECONDS": "3",
        "VENTANILLA_NOTIFY_ENABLED": "false",
    }
    with started_stack(test_model, kb_index_dir, tmp_path_factory.mktemp("fault-stack-var"), env) as running:
        yield running
