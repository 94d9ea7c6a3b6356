"""The dashboard's "biggest unanswered groups" table and CSV, on SQLite and PostgreSQL.

Questions are recorded through the backend's ``InteractionStore`` (as the action server
does), grouped by the inbox's own grouping with the unit-test embedder; the dashboard
must count each group's questions in the range and channel, name the closest procedure
and show a masked sample (never the document number, phone or email asked with it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from backend.accounts.roles import Role
from backend.api import create_app
from backend.console.routes_content import publisher
from backend.content.publishing import Publisher
from backend.interactions import Candidate
from backend.scratch_schema import scratch_schema
from backend.unanswered.models import Reason, UnansweredQuestion
from knowledge_base.settings import SearchSettings
from tests.console.conftest import ConsoleClient, console_settings, seed

DOGS = [
    "permiso para perro peligroso",
    "como saco el permiso de perro peligroso",
    "necesito permiso para un perro peligroso",
]
PERSONAL = "permiso de perro peligroso, mi dni es 30.123.456 y mi correo ana.gil@example.org"
POTHOLE = "quiero denunciar un bache en mi calle"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var = tmp_path_factory.mktemp("analytics-unanswered")
    if request.param == "postgres":
        where = scratch_schema(request.getfixturevalue("postgres_url"), prefix="dash_unanswered")
        settings = console_settings(var, database_url=where.__enter__())
    else:
        where, settings = None, console_settings(var)
    application = create_app(settings, run_dispatcher=False)
    scratch = Publisher(
        SearchSettings(index_dir=var / "index", embedder="fake", out_of_scope_file=var / "out_of_scope.yml")
    )
    application.dependency_overrides[publisher] = lambda: scratch
    with TestClient(application):
        seed(application, {"oscar": frozenset({Role.CASE_OFFICER})})
        for text in [*DOGS, PERSONAL]:
            _record(application, text, "telegram", Candidate("carnet-vacunacion", 0.4))
        _record(application, POTHOLE, "rest", Candidate("licencia-conducir", 0.2))
        _record(application, "una pregunta vieja sobre perros peligrosos", "telegram", Candidate("x", 0.1))
        with application.state.ventanilla.sessions() as db:  # the last one was asked 60 days ago
            old = datetime.now(UTC) - timedelta(days=60)
            db.execute(
                update(UnansweredQuestion).where(UnansweredQuestion.question.like("%vieja%")).values(created_at=old)
            )
            db.commit()
        yield application
    application.state.ventanilla.engine.dispose()
    if where is not None:
        where.__exit__(None, None, None)


def _record(app: FastAPI, text: str, channel: str, candidate: Candidate) -> None:
    app.state.ventanilla.interactions.record_unanswered(
        sender_id="citizen",
        channel=channel,
        reason=Reason.ABSTAINED,
        question=text,
        intent="ask_procedure",
        intent_confidence=0.9,
        candidates=[candidate],
        secrets=[],
    )


@pytest.fixture(scope="module")
def officer(app: FastAPI) -> ConsoleClient:
    client = ConsoleClient(app)
    assert client.login("oscar").status_code == 303
    return client


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_biggest_groups_are_counted_in_the_range_with_a_masked_sample(officer: ConsoleClient) -> None:
    table = _rows(officer.get("/console/analytics/export.csv?tabla=sin_respuesta").text)
    assert table[0] == ["ejemplo", "preguntas", "tramite_mas_cercano", "titulo_del_tramite", "similitud"]
    biggest = table[1]
    assert biggest[1] == "4"  # the three dog questions and the masked one; the 60-day-old one is out of range
    # closest procedure and score are the inbox group's (all 5 open rows, the old one included): 4 x 0.4 / 5
    assert biggest[2] == "carnet-vacunacion" and biggest[3] == "Carnet de vacunación" and biggest[4] == "0.32"
    assert "perro" in biggest[0]
    assert len(table) == 3 and table[2][1:3] == ["1", "licencia-conducir"]
    everything = "".join(",".join(row) for row in table)
    assert "30.123.456" not in everything and "ana.gil@example.org" not in everything


def test_the_newest_sample_is_masked_on_the_page(officer: ConsoleClient) -> None:
    html = officer.get("/console/analytics").text
    assert 'id="tabla-sin_respuesta"' in html and "export.csv?tabla=sin_respuesta" in html
    assert "30.123.456" not in html and "ana.gil" not in html
    assert "permiso de perro peligroso, mi dni es" in html  # the newest dog question, masked


def test_channel_and_range_filter_the_groups(officer: ConsoleClient) -> None:
    only_rest = _rows(officer.get("/console/analytics/export.csv?tabla=sin_respuesta&canal=rest").text)
    assert [row[:3] for row in only_rest[1:]] == [[POTHOLE, "1", "licencia-conducir"]]
    long_ago = (datetime.now(UTC) - timedelta(days=70)).date().isoformat()
    old = (datetime.now(UTC) - timedelta(days=50)).date().isoformat()
    past = _rows(officer.get(f"/console/analytics/export.csv?tabla=sin_respuesta&desde={long_ago}&hasta={old}").text)
    assert len(past) == 2 and past[1][1] == "1" and "vieja" in past[1][0]
    empty = officer.get("/console/analytics?desde=2020-01-01&hasta=2020-01-31").text
    assert "Sin preguntas pendientes en este período." in empty
