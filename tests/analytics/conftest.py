"""Fixtures of the analytics tests that need RabbitMQ."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import create_schema, make_engine
from tests.conftest import require_service


@pytest.fixture
def queue() -> Iterator[str]:
    """A fresh durable queue name on the real RabbitMQ (127.0.0.1:5672), deleted afterwards."""
    require_service("RabbitMQ", "127.0.0.1", 5672)
    import pika

    name = f"ventanilla-analytics-test-{uuid.uuid4().hex[:8]}"
    yield name
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    connection.channel().queue_delete(name)
    connection.close()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A fresh SQLite case database with every table (analytics and unanswered questions included)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    create_schema(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()
