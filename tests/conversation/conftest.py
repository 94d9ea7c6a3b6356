"""Fixtures for running our actions directly: a real SQLite case store and interaction
store behind ``actions.services``, and rasa_sdk trackers built like Rasa sends them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import actions.services
from actions.settings import ActionSettings
from backend.db import create_schema, make_engine
from backend.interactions import InteractionStore
from backend.repository import SqlCaseRepository

KEY = "test-hash-key-0123456789abcdef0123456789"
TITLES = {
    "certificado-residencia": "Certificado de residencia",
    "pasaporte-emision": "Emisión de pasaporte (primera vez)",
}


@dataclass
class FakeHit:
    procedure_id: str


@dataclass
class FakeResult:
    hits: list[FakeHit] = field(default_factory=list)


class FakeSearch:
    """Stands in for the index holder: maps a few words to procedures (the real search
    is exercised by the knowledge-base tests and the end-to-end conversations)."""

    def searcher(self) -> FakeSearch:
        return self

    def search(self, text: str, top_k: int = 1, **_: Any) -> FakeResult:
        if "residencia" in text.lower():
            return FakeResult([FakeHit("certificado-residencia")])
        return FakeResult()


@dataclass
class Env:
    settings: ActionSettings
    cases: SqlCaseRepository
    interactions: InteractionStore
    db_url: str


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    settings = ActionSettings(var_dir=tmp_path, database_url=url, case_hash_key=KEY)
    engine = make_engine(url)
    create_schema(engine)
    cases = SqlCaseRepository(engine, hash_key=KEY)
    interactions = InteractionStore(engine, hash_key=KEY)
    services = actions.services.Services(settings, FakeSearch(), cases, dict(TITLES), interactions)  # type: ignore[arg-type]
    monkeypatch.setattr(actions.services, "_services", services)
    yield Env(settings, cases, interactions, url)
    engine.dispose()


def tracker(
    *,
    sender: str = "citizen-1",
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "",
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    channel: str = "rest",
) -> Any:
    from rasa_sdk import Tracker

    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    all_events = [*list(events or []), {"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
    return Tracker(sender, dict(slots or {}), latest, all_events, False, None, {}, "action_listen")


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "input_channel": "rest"}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def bot(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text}
