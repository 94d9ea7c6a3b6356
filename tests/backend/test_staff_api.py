"""The staff API over the real app and a real database: auth, roles, filters, errors, audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from backend.api import create_app
from backend.auth import StaffDirectory, StaffTokenError
from backend.models import Case
from backend.repository import SqlCaseRepository
from tests.backend.conftest import ADMIN_TOKEN, OFFICER_TOKEN, SERVICE_TOKEN, Database, backend_settings, new_case

OFFICER = {"Authorization": f"Bearer {OFFICER_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HEX64 = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    app = create_app(backend_settings(database.url))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def repo(client: TestClient) -> SqlCaseRepository:
    return client.app.state.ventanilla.repository  # type: ignore[attr-defined,no-any-return]


def _open(repo: SqlCaseRepository, n: int, **kwargs: object) -> str:
    return repo.open_case(new_case(n, **kwargs))  # type: ignore[arg-type]


# --- authentication and roles ------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {OFFICER_TOKEN}"},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Bearer {OFFICER_TOKEN[:-1]}X"},  # same length, last character wrong
        {"Authorization": f"Bearer {SERVICE_TOKEN}"},  # the service token is not a staff token
    ],
)
def test_without_a_valid_staff_token_nothing_is_returned(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/staff/cases", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "items" not in response.json()


def test_officers_cannot_read_the_audit_log_or_the_notification_queue(client: TestClient) -> None:
    for path in ("/staff/audit", "/staff/notifications"):
        assert client.get(path, headers=OFFICER).status_code == 403
        assert client.get(path, headers=ADMIN).status_code == 200


def test_the_internal_api_needs_the_service_token(client: TestClient) -> None:
    body = {"code": "EXP-2026-000001", "verification": "1234"}
    assert client.post("/internal/cases/status", json=body).status_code == 401
    assert client.post("/internal/cases/status", json=body, headers=OFFICER).status_code == 401
    ok = client.post("/internal/cases/status", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    assert ok.status_code == 404


def test_malformed_staff_tokens_fail_at_start_without_showing_the_token() -> None:
    for spec in ("only-a-token-0123456789", "tok-0123456789abcdef:boss", "short:admin"):
        with pytest.raises(StaffTokenError) as info:
            StaffDirectory(spec)
        assert "0123456789" not in str(info.value)
    assert len(StaffDirectory("")) == 0


# --- listing -----------------------------------------------------------------------------------


def test_listing_filters_and_paginates(client: TestClient, repo: SqlCaseRepository) -> None:
    codes = [_open(repo, i, procedure="pasaporte-emision" if i % 2 else "certificado-residencia") for i in range(7)]
    client.post(f"/staff/cases/{codes[0]}/status", json={"status": "en_revision"}, headers=OFFICER).raise_for_status()

    everything = client.get("/staff/cases", headers=OFFICER).json()
    assert everything["total"] == 7 and [c["code"] for c in everything["items"]] == codes[::-1]

    page = client.get("/staff/cases", params={"page": 2, "page_size": 3}, headers=OFFICER).json()
    assert (page["total"], page["pages"], [c["code"] for c in page["items"]]) == (7, 3, codes[::-1][3:6])
    assert client.get("/staff/cases", params={"page": 4, "page_size": 3}, headers=OFFICER).json()["items"] == []

    by_status = client.get("/staff/cases", params={"status": "en_revision"}, headers=OFFICER).json()
    assert [c["code"] for c in by_status["items"]] == [codes[0]]
    by_procedure = client.get("/staff/cases", params={"procedure_id": "pasaporte-emision"}, headers=OFFICER).json()
    assert by_procedure["total"] == 3

    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    assert client.get("/staff/cases", params={"created_from": tomorrow}, headers=OFFICER).json()["total"] == 0
    assert (
        client.get("/staff/cases", params={"created_from": yesterday, "created_to": tomorrow}, headers=OFFICER).json()[
            "total"
        ]
        == 7
    )
    recent = client.get(
        "/staff/cases", params={"updated_from": datetime.now(timezone.utc).isoformat()}, headers=OFFICER
    ).json()
    assert recent["total"] == 0


def test_listing_by_dates_uses_the_stored_dates(client: TestClient, repo: SqlCaseRepository) -> None:
    old, new = _open(repo, 1), _open(repo, 2)
    engine = client.app.state.ventanilla.engine  # type: ignore[attr-defined]
    with Session(engine) as session, session.begin():
        session.execute(
            update(Case).where(Case.code == old).values(created_at=datetime(2025, 3, 1, tzinfo=timezone.utc))
        )
    march = client.get(
        "/staff/cases", params={"created_from": "2025-03-01", "created_to": "2025-04-01"}, headers=OFFICER
    )
    assert [c["code"] for c in march.json()["items"]] == [old]
    later = client.get("/staff/cases", params={"created_from": "2025-04-01T00:00:00Z"}, headers=OFFICER)
    assert [c["code"] for c in later.json()["items"]] == [new]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"status": "volando"}, "Estado desconocido"),
        ({"page": 0}, "page"),
        ({"page_size": 1000}, "page_size"),
        ({"created_from": "ayer"}, "created_from"),
        ({"created_from": "2026-02-01", "created_to": "2026-01-01"}, "anterior"),
    ],
)
def test_bad_filters_get_a_clear_422(client: TestClient, params: dict[str, object], needle: str) -> None:
    response = client.get("/staff/cases", params=params, headers=OFFICER)
    assert response.status_code == 422
    assert needle in response.text


# --- one case, status changes, notes -------------------------------------------------------------


def test_a_case_is_shown_with_history_notes_and_no_hashes(client: TestClient, repo: SqlCaseRepository) -> None:
    code = _open(repo, 1, document="30123456", sender="tg-555")
    client.post(f"/staff/cases/{code}/notes", json={"text": "Llamé a la ciudadana"}, headers=OFFICER).raise_for_status()
    response = client.get(f"/staff/cases/{code.lower()}", headers=OFFICER)  # codes are normalized
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == code and body["full_name"] == "Ana María Pérez" and body["contact"] == "ana.perez@correo.com"
    assert body["allowed_next"] == ["en_revision"] and body["status_label"] == "recibido"
    assert [h["to_status"] for h in body["history"]] == ["recibido"]
    assert [(n["author"], n["text"]) for n in body["notes"]] == [("Olga Oficial", "Llamé a la ciudadana")]
    assert not HEX64.search(response.text) and "tg-555" not in response.text and "30123456" not in response.text


def test_changing_status_with_a_note_is_recorded_and_audited(client: TestClient, repo: SqlCaseRepository) -> None:
    code = _open(repo, 1, channel="telegram")
    response = client.post(
        f"/staff/cases/{code}/status", json={"status": "en_revision", "note": "Documentación completa"}, headers=OFFICER
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "en_revision"
    last = body["history"][-1]
    assert (last["from_status"], last["to_status"], last["changed_by"], last["note"]) == (
        "recibido",
        "en_revision",
        "Olga Oficial",
        "Documentación completa",
    )
    audit = client.get("/staff/audit", params={"case": code}, headers=ADMIN).json()
    actions = [(e["actor"], e["action"]) for e in audit["items"]]
    assert ("Olga Oficial", "case.status_changed") in actions
    change = next(e for e in audit["items"] if e["action"] == "case.status_changed")
    assert change["details"]["from_status"] == "recibido" and change["details"]["notification_queued"] is True
    assert "Documentación completa" not in str(audit)  # note text stays out of the audit log
    queued = client.get("/staff/notifications", params={"case": code}, headers=ADMIN).json()
    assert [(n["to_status"], n["state"]) for n in queued] == [("en_revision", "pending")]


def test_reading_a_case_is_audited(client: TestClient, repo: SqlCaseRepository) -> None:
    code = _open(repo, 1)
    client.get(f"/staff/cases/{code}", headers=OFFICER).raise_for_status()
    audit = client.get("/staff/audit", params={"case": code, "action": "case.viewed"}, headers=ADMIN).json()
    assert [e["actor"] for e in audit["items"]] == ["Olga Oficial"]


def test_an_invalid_transition_is_409_and_changes_nothing(client: TestClient, repo: SqlCaseRepository) -> None:
    code = _open(repo, 1)
    response = client.post(f"/staff/cases/{code}/status", json={"status": "aprobado"}, headers=OFFICER)
    assert response.status_code == 409
    assert "No se puede pasar de 'recibido' a 'aprobado'" in response.json()["detail"]
    body = client.get(f"/staff/cases/{code}", headers=OFFICER).json()
    assert body["status"] == "recibido" and len(body["history"]) == 1
    assert client.get("/staff/notifications", headers=ADMIN).json() == []


@pytest.mark.parametrize(
    ("path", "body", "status_code", "needle"),
    [
        ("/staff/cases/EXP-2026-999999/status", {"status": "en_revision"}, 404, "No existe el trámite EXP-2026-999999"),
        ("/staff/cases/no-es-un-codigo/status", {"status": "en_revision"}, 422, "no es un código de trámite"),
        ("/staff/cases/{code}/status", {"status": "volando"}, 422, "Estado desconocido"),
        ("/staff/cases/{code}/status", {}, 422, "status"),
        ("/staff/cases/{code}/status", {"status": "en_revision", "extra": 1}, 422, "extra"),
        ("/staff/cases/{code}/notes", {"text": "   "}, 422, "vacía"),
        ("/staff/cases/{code}/notes", {"text": "x" * 5000}, 422, "text"),
        ("/staff/cases/EXP-2026-999999/notes", {"text": "hola"}, 404, "No existe"),
    ],
)
def test_bad_requests_get_clear_errors(
    client: TestClient, repo: SqlCaseRepository, path: str, body: dict[str, object], status_code: int, needle: str
) -> None:
    code = _open(repo, 1)
    response = client.post(path.format(code=code), json=body, headers=OFFICER)
    assert response.status_code == status_code, response.text
    assert needle in response.text


def test_validation_errors_never_echo_submitted_values(client: TestClient) -> None:
    response = client.post(
        "/internal/cases",
        json={
            "procedure_id": "x",
            "full_name": "Ana",
            "document_number": "30123456789012345678901234567890123456789XYZ",
            "contact": "a@b.c",
            "channel": "telegram",
            "sender_id": "tg-1",
            "idempotency_key": "k",
        },
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
    )
    assert response.status_code == 422
    assert "document_number" in response.text and "30123456789" not in response.text


def test_a_failed_notification_can_be_retried_by_an_admin(client: TestClient, repo: SqlCaseRepository) -> None:
    from backend.models import NotificationOutbox

    code = _open(repo, 1, channel="telegram")
    client.post(f"/staff/cases/{code}/status", json={"status": "en_revision"}, headers=OFFICER).raise_for_status()
    notification = client.get("/staff/notifications", headers=ADMIN).json()[0]
    assert client.post(f"/staff/notifications/{notification['id']}/retry", headers=ADMIN).status_code == 409  # pending
    engine = client.app.state.ventanilla.engine  # type: ignore[attr-defined]
    with Session(engine) as session, session.begin():
        session.execute(update(NotificationOutbox).values(state="failed", attempts=100, last_error="HTTP 500"))
    assert client.post(f"/staff/notifications/{notification['id']}/retry", headers=OFFICER).status_code == 403
    retried = client.post(f"/staff/notifications/{notification['id']}/retry", headers=ADMIN)
    assert retried.status_code == 200 and retried.json()["state"] == "pending" and retried.json()["attempts"] == 0
    assert client.post("/staff/notifications/999999/retry", headers=ADMIN).status_code == 404


def test_the_openapi_document_describes_the_staff_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/staff/cases", "/staff/cases/{code}", "/staff/cases/{code}/status", "/staff/cases/{code}/notes"} <= set(
        spec["paths"]
    )
    assert "/internal/cases" in spec["paths"]
    schemas = str(spec["components"]["schemas"])
    assert "document_hash" not in schemas and "verification_hash" not in schemas and "sender_hash" not in schemas
    detail = spec["components"]["schemas"]["CaseDetailOut"]["properties"]
    assert not {"document_hash", "verification_hash", "sender_hash", "sender_id"} & set(detail)
