"""Case work in the console: the queue, the CSV export, the case page and its actions.

Runs on SQLite and on PostgreSQL (a scratch schema), through the real app with signed-in
clients and CSRF tokens, like a browser. Cases are written straight into the tables
so each test controls their dates and statuses exactly.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend import case_queue
from backend.accounts.roles import Role
from backend.api import create_app
from backend.models import AuditEvent, Case, CaseNote, CaseStatusChange, NotificationOutbox
from backend.scratch_schema import scratch_schema
from backend.workflow import EXPECTED_DAYS, Status, add_working_days
from tests.console.conftest import ConsoleClient, console_settings, seed

USERS = {
    "oscar": frozenset({Role.CASE_OFFICER}),
    "olga": frozenset({Role.CASE_OFFICER}),
    "edith": frozenset({Role.EDITOR, Role.AGENT, Role.REVIEWER, Role.ADMIN}),
}
NOW = datetime.now(timezone.utc)


def _app(settings: Any) -> Iterator[FastAPI]:
    app = create_app(settings, run_dispatcher=False)
    with TestClient(app):
        seed(app, USERS, with_content=False)
        yield app
    app.state.ventanilla.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var_dir = tmp_path_factory.mktemp("cases")
    if request.param == "sqlite":
        yield from _app(console_settings(var_dir))
        return
    postgres_url = request.getfixturevalue("postgres_url")
    with scratch_schema(postgres_url, prefix="cases") as url:
        yield from _app(console_settings(var_dir, database_url=url))


def add_case(
    app: FastAPI,
    *,
    status: Status = Status.RECIBIDO,
    procedure: str = "certificado-residencia",
    age_days: int = 0,
    in_status_days: int | None = None,
    assignee: str | None = None,
    channel: str = "telegram",
) -> str:
    number = uuid.uuid4().int % 1_000_000
    code = f"EXP-2026-{number:06d}"
    created = NOW - timedelta(days=age_days)
    since = NOW - timedelta(days=in_status_days if in_status_days is not None else age_days)
    with app.state.ventanilla.sessions() as db:
        db.add(
            Case(
                code=code,
                procedure_id=procedure,
                status=status.value,
                channel=channel,
                idempotency_key=uuid.uuid4().hex,
                notify_opt_in=True,
                created_at=created,
                updated_at=since,
                status_since=since,
                full_name="Ana María Pérez",
                contact="ana.perez@correo.com",
                sender_id="tg-555000111",
                assignee=assignee,
            )
        )
        db.commit()
    return code


def client(app: FastAPI, username: str) -> ConsoleClient:
    browser = ConsoleClient(app)
    assert browser.login(username).status_code == 303
    return browser


def test_overdue_cutoff_agrees_with_the_expected_date_of_every_start_day() -> None:
    """The SQL cut-off must mark exactly the cases whose expected date is past."""
    for today in (date(2026, 12, 2), date(2026, 12, 5), date(2026, 12, 7)):  # Wednesday, Saturday, Monday
        for days in {d for d in EXPECTED_DAYS.values() if d is not None}:
            cutoff = case_queue.overdue_cutoff(days, today)
            for back in range(0, 30):
                start = today - timedelta(days=back)
                assert (start <= cutoff) == (add_working_days(start, days) < today), (today, days, start)


def test_queue_filters_sorts_and_highlights_overdue_cases(app: FastAPI) -> None:
    procedure = f"proc-{uuid.uuid4().hex[:6]}"  # isolates this test's cases in the shared app
    late = add_case(app, procedure=procedure, status=Status.RECIBIDO, age_days=20)  # 2 working days expected
    fresh = add_case(app, procedure=procedure, status=Status.RECIBIDO, age_days=0, assignee="olga")
    reviewing = add_case(app, procedure=procedure, status=Status.EN_REVISION, age_days=5, in_status_days=1)
    closed = add_case(app, procedure=procedure, status=Status.CERRADO, age_days=40)
    oscar = client(app, "oscar")

    page = oscar.get(f"/console/cases?procedure={procedure}")
    assert page.status_code == 200
    text = page.text
    assert late in text and fresh in text and reviewing in text and closed not in text  # closed hidden by default
    assert "3 expedientes, 1 vencidos" in text
    assert text.index(late) < text.index(reviewing) < text.index(fresh)  # oldest first
    row = text[text.index(f">{late}<") :].split("</tr>")[0]
    assert "Vencido" in row
    assert "Ana María" not in text and "correo.com" not in text  # no personal data in the queue

    newest = oscar.get(f"/console/cases?procedure={procedure}&sort=newest").text
    assert newest.index(fresh) < newest.index(reviewing) < newest.index(late)
    only_late = oscar.get(f"/console/cases?procedure={procedure}&overdue=1").text
    assert late in only_late and fresh not in only_late and reviewing not in only_late
    assert fresh in oscar.get(f"/console/cases?procedure={procedure}&assignee=olga").text
    unassigned = oscar.get(f"/console/cases?procedure={procedure}&assignee=-").text
    assert fresh not in unassigned and late in unassigned
    aged = oscar.get(f"/console/cases?procedure={procedure}&min_age=3").text
    assert late in aged and reviewing in aged and fresh not in aged
    by_status = oscar.get(f"/console/cases?procedure={procedure}&status=en_revision").text
    assert reviewing in by_status and late not in by_status
    assert closed in oscar.get(f"/console/cases?procedure={procedure}&closed=1").text
    assert oscar.get("/console/cases?status=nonsense&sort=nonsense&min_age=-4").status_code == 200


def test_csv_export_is_the_filtered_queue_without_personal_data_and_is_audited(app: FastAPI) -> None:
    procedure = f"proc-{uuid.uuid4().hex[:6]}"
    late = add_case(app, procedure=procedure, age_days=20, assignee="=cmd|x")  # formula-looking value
    other = add_case(app, procedure=procedure, status=Status.EN_REVISION, age_days=1)
    oscar = client(app, "oscar")
    response = oscar.get(f"/console/cases.csv?procedure={procedure}&status=recibido")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0] == list(case_queue.CSV_HEADER)
    assert [r[0] for r in rows[1:]] == [late]
    assert rows[1][8] == "si" and rows[1][9] == "'=cmd|x"
    assert other not in response.text and "Ana" not in response.text and "tg-555" not in response.text
    with app.state.ventanilla.sessions() as db:
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.queue_exported").order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.actor == "oscar" and event.details["rows"] == 1


def test_case_page_actions_are_audited_and_the_status_change_queues_the_notification(app: FastAPI) -> None:
    code = add_case(app, age_days=3)
    oscar = client(app, "oscar")
    page = oscar.get(f"/console/cases/{code}")
    assert page.status_code == 200
    assert "Ana María Pérez" in page.text and "ana.perez@correo.com" in page.text
    assert "tg-555000111" not in page.text  # the channel id is never shown
    assert oscar.get("/console/cases/EXP-2026-999999x").status_code in (404,)

    assert oscar.post(f"/console/cases/{code}/assign", {"assignee": "olga"}).status_code == 303
    assert oscar.post(f"/console/cases/{code}/assign", {"assignee": "edith"}).status_code == 422  # not an officer
    assert oscar.post(f"/console/cases/{code}/notes", {"text": "  "}).status_code == 422
    assert oscar.post(f"/console/cases/{code}/notes", {"text": "Llamé a la persona."}).status_code == 303
    refused = oscar.post(f"/console/cases/{code}/status", {"status": "en_revision", "note": ""})
    assert refused.status_code == 422 and "Escriba una nota" in refused.text
    skipping = oscar.post(f"/console/cases/{code}/status", {"status": "aprobado", "note": "Todo bien"})
    assert skipping.status_code == 409  # recibido -> aprobado is not a workflow step
    done = oscar.post(f"/console/cases/{code}/status", {"status": "en_revision", "note": "Documentación completa"})
    assert done.status_code == 303 and done.headers["location"] == f"/console/cases/{code}?done=status"
    shown = oscar.get(done.headers["location"]).text
    assert "Documentación completa" in shown and "Llamé a la persona." in shown and "olga" in shown

    with app.state.ventanilla.sessions() as db:
        case = db.scalars(select(Case).where(Case.code == code)).one()
        assert case.status == "en_revision" and case.assignee == "olga"
        [change] = db.scalars(select(CaseStatusChange).where(CaseStatusChange.case_id == case.id)).all()
        assert change.changed_by == "oscar" and change.note == "Documentación completa"
        [outbox] = db.scalars(select(NotificationOutbox).where(NotificationOutbox.case_id == case.id)).all()
        assert outbox.to_status == "en_revision" and outbox.status_change_id == change.id
        assert len(db.scalars(select(CaseNote).where(CaseNote.case_id == case.id)).all()) == 1
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))]
    assert actions.count("case.assigned") == 1 and actions.count("case.note_added") == 1
    assert actions.count("case.status_changed") == 1 and actions.count("case.viewed") >= 2


def test_closed_cases_cannot_be_assigned_and_offer_no_status_change(app: FastAPI) -> None:
    code = add_case(app, status=Status.CERRADO, age_days=30)
    oscar = client(app, "oscar")
    assert "ya no cambia" in oscar.get(f"/console/cases/{code}").text
    assert oscar.post(f"/console/cases/{code}/assign", {"assignee": "me"}).status_code == 409
    with app.state.ventanilla.sessions() as db:
        assert db.scalars(select(Case.assignee).where(Case.code == code)).one() is None


def test_staff_without_the_case_officer_role_cannot_see_or_change_cases(app: FastAPI) -> None:
    code = add_case(app)
    other = client(app, "edith")  # every role except case officer
    for url in ("/console/cases", "/console/cases.csv", f"/console/cases/{code}"):
        assert other.get(url).status_code == 403, url
    assert "/console/cases" not in other.get("/console").text  # not in the navigation either
    for action, form in (("status", {"status": "en_revision", "note": "x"}), ("notes", {"text": "x"})):
        assert other.post(f"/console/cases/{code}/{action}", form).status_code == 403
    anonymous = ConsoleClient(app)
    assert anonymous.http.get(f"/console/cases/{code}").headers["location"].startswith("/console/login")
    with app.state.ventanilla.sessions() as db:
        case = db.scalars(select(Case).where(Case.code == code)).one()
        assert case.status == "recibido"
        assert not db.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
