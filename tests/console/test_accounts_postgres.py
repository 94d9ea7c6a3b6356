"""The account flows on PostgreSQL (production's database): login, throttling, expiry,
logout everywhere and the console pages over a real PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from backend.accounts.models import StaffSession
from backend.accounts.roles import Role
from backend.api import create_app
from backend.scratch_schema import scratch_schema
from tests.console.conftest import PASSWORD, ConsoleClient, console_settings, seed

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_app(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    with scratch_schema(postgres_url, prefix="console") as url:
        settings = console_settings(
            tmp_path_factory.mktemp("console-pg"), database_url=url, login_max_failures_account=2
        )
        app = create_app(settings, run_dispatcher=False)
        with TestClient(app):
            seed(app, {"pia": frozenset({Role.ADMIN, Role.EDITOR})})
            yield app
        app.state.ventanilla.engine.dispose()


def test_login_pages_expiry_and_throttling_on_postgresql(pg_app: FastAPI) -> None:
    office, phone = ConsoleClient(pg_app), ConsoleClient(pg_app)
    assert office.login("pia").status_code == 303
    assert phone.login("pia").status_code == 303
    for page in ("/console", "/console/procedures?q=pasaporte", "/console/users", "/console/audit?action=login."):
        assert office.get(page).status_code == 200, page
    assert "Emisión de pasaporte" in office.get("/console/procedures?q=pasaporte").text

    with pg_app.state.ventanilla.sessions() as db:  # the phone's session went idle long ago
        db.execute(update(StaffSession).values(last_seen_at=datetime.now(timezone.utc) - timedelta(hours=1)))
        db.commit()
    assert phone.get("/console").status_code == 303
    assert office.login("pia").status_code == 303

    office.get("/console/account")
    changed = office.post(
        "/console/account/password", {"current_password": PASSWORD, "new_password": "nuevo camino al río"}
    )
    assert changed.status_code == 303 and office.get("/console").status_code == 200

    attacker = ConsoleClient(pg_app, address="203.0.113.50")
    assert attacker.login("pia", "equivocada-1").status_code == 401
    assert attacker.login("pia", "equivocada-2").status_code == 401
    assert attacker.login("pia", "nuevo camino al río").status_code == 429
