"""Fixtures of the content-store tests: a real database (SQLite file and PostgreSQL), the five-procedure
knowledge base of tests/kb with a fake-embedder index, and a publisher that counts embeddings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from backend.content import service
from backend.content.publishing import Publisher
from backend.db import create_schema, make_engine, session_factory
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.settings import SearchSettings
from tests.backend.conftest import database  # noqa: F401 - the SQLite/PostgreSQL fixture
from tests.kb.conftest import kb_root, make_settings  # noqa: F401 - five real procedures in tmp_path


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every passage text it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_passages(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return super().embed_passages(texts)


@pytest.fixture
def kb(kb_root: Path) -> SearchSettings:  # noqa: F811
    return make_settings(kb_root)


@pytest.fixture
def publisher(kb: SearchSettings) -> Publisher:
    return Publisher(kb, CountingEmbedder())


@pytest.fixture
def sessions(database) -> Iterator:  # type: ignore[no-untyped-def]  # noqa: F811
    engine = make_engine(database.url)
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def seeded(sessions, kb: SearchSettings, publisher: Publisher, monkeypatch: pytest.MonkeyPatch) -> Session:  # type: ignore[no-untyped-def]
    """A session over a database seeded from the five files, with the index built from it."""
    for key, value in {"content_dir": kb.content_dir, "imported_dir": kb.imported_dir}.items():
        monkeypatch.setenv(f"VENTANILLA_KB_{key.upper()}", str(value))
    session = sessions()
    assert service.seed_if_empty(session, content_dir=kb.content_dir)
    publisher.rebuild(_published(session))
    publisher.embedder().embedded.clear()  # type: ignore[attr-defined]
    yield session
    session.close()


def _published(session: Session) -> dict:  # type: ignore[type-arg]
    from backend.content.store import published_data

    data = published_data(session)
    session.rollback()
    return data
