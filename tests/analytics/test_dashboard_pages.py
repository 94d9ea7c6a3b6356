"""The dashboard, its CSV exports and the public page, on the real app with a real SQLite file.

Scripted raw events go through the recorder; the pages must show exactly their figures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.accounts.roles import Role
from backend.analytics.recorder import Recorder
from backend.api import create_app
from tests.analytics.events import Script
from tests.console.conftest import ConsoleClient, console_settings, seed

HASH_KEY = "test-hash-key-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    app = create_app(console_settings(tmp_path_factory.mktemp("analytics-var")), run_dispatcher=False)
    with TestClient(app):
        seed(app, {"oscar": frozenset({Role.CASE_OFFICER})}, with_content=False)
        now = datetime.now(UTC).timestamp() - 3600
        scripts = [Script(f"c-{n}", now + n, channel="telegram" if n < 3 else "rest").session() for n in range(12)]
        for n, script in enumerate(scripts):
            script.answered() if n % 3 else script.abstained()
        scripts[0].user("le doy 5 estrellas", "feedback").action("action_save_feedback").bot("utter_rating_thanks")
        with app.state.ventanilla.sessions() as db:
            Recorder(HASH_KEY).record(db, [e for s in scripts for e in s.events])
            db.commit()
        yield app


@pytest.fixture(scope="module")
def officer(app: FastAPI) -> ConsoleClient:
    client = ConsoleClient(app)
    assert client.login("oscar").status_code == 303
    return client


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_dashboard_shows_the_figures_with_a_table_behind_every_chart(officer: ConsoleClient) -> None:
    page = officer.get("/console/analytics")
    assert page.status_code == 200
    html = page.text
    assert html.count("<canvas") == 5 and html.count("<table") == 7
    assert "/console/vendor/chart.umd.min.js" in html and "/console/static/analytics.js" in html
    assert '<th scope="row">Conversaciones</th><td>12</td>' in html
    assert '<th scope="row">Contención (resueltas sin persona)</th><td>66,7 %</td>' in html


def test_csv_exports_have_exact_rows(officer: ConsoleClient) -> None:
    summary = dict(rows(officer.get("/console/analytics/export.csv?tabla=resumen").text)[1:])
    assert summary["Conversaciones"] == "12" and summary["Derivaciones a una persona"] == "0"
    assert summary["Contención (resueltas sin persona)"] == "0.6667"
    assert summary["Tasa de abstención («no sé»)"] == "0.3333"
    assert summary["Calificación media (1-5)"] == "5.0"
    channel = officer.get("/console/analytics/export.csv?tabla=por_canal")
    assert channel.headers["content-type"].startswith("text/csv")
    assert rows(channel.text) == [["canal", "conversaciones"], ["rest", "9"], ["telegram", "3"]]
    assert rows(officer.get("/console/analytics/export.csv?tabla=tramites").text)[1] == ["pasaporte-emision", "8"]
    only_rest = rows(officer.get("/console/analytics/export.csv?tabla=resumen&canal=telegram").text)
    assert dict(only_rest[1:])["Conversaciones"] == "3"


def test_bad_dates_get_a_plain_spanish_error(officer: ConsoleClient) -> None:
    page = officer.get("/console/analytics?desde=ayer")
    assert page.status_code == 422 and "AAAA-MM-DD" in page.text
    assert officer.get("/console/analytics?desde=2026-02-01&hasta=2026-01-01").status_code == 422
    assert officer.get("/console/analytics/export.csv?tabla=otra").status_code == 404


def test_the_dashboard_needs_a_session(app: FastAPI) -> None:
    anonymous = TestClient(app, follow_redirects=False)
    assert anonymous.get("/console/analytics").status_code == 303
    assert anonymous.get("/console/analytics/export.csv").status_code == 303


def test_public_page_is_off_by_default_and_hides_small_groups(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    visitor = TestClient(app, follow_redirects=False)
    assert visitor.get("/transparencia").status_code == 404
    monkeypatch.setenv("VENTANILLA_PUBLIC_PAGE", "true")
    page = visitor.get("/transparencia")
    assert page.status_code == 200 and "<script" not in page.text
    html = page.text
    assert "<td>12</td>" in html  # conversations: 12 >= 10
    assert '<th scope="row">rest</th><td>no se muestra</td>' in html  # 9 < 10
    assert '<th scope="row">telegram</th><td>no se muestra</td>' in html
    assert "Calificación media (de 1 a 5)</th><td>no se muestra" in html  # one rating
    monkeypatch.setenv("VENTANILLA_PUBLIC_MIN_CONVERSATIONS", "13")
    assert "no publicamos cifras" in visitor.get("/transparencia").text
