"""Console security: CSRF refusal, session cookie and expiry, logout everywhere, login
throttling, escaping, open redirects. Real app, real SQLite file, real Argon2."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete, select, update

from backend.accounts.models import LoginAttempt, StaffSession, StaffUser
from backend.accounts.roles import Role
from backend.api import create_app
from backend.console import csrf
from backend.models import AuditEvent
from tests.console.conftest import PASSWORD, ConsoleClient, console_settings, seed

USERS = {
    "admin1": frozenset({Role.ADMIN}),
    "admin2": frozenset({Role.ADMIN}),
    "carla": frozenset({Role.EDITOR}),
    "dario": frozenset({Role.EDITOR, Role.REVIEWER}),
    "eva": frozenset({Role.AGENT}),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = console_settings(
        tmp_path_factory.mktemp("console-sec"), login_max_failures_account=3, login_max_failures_address=6
    )
    application = create_app(settings, run_dispatcher=False)
    with TestClient(application):
        seed(application, USERS, with_content=False)
        yield application


def _users(app: FastAPI) -> set[str]:
    with app.state.ventanilla.sessions() as db:
        return set(db.scalars(select(StaffUser.username)))


def _new_user_form(name: str) -> dict[str, object]:
    return {"username": name, "display_name": "Nueva", "password": "otra frase bastante larga", "roles": ["agent"]}


# --- CSRF ----------------------------------------------------------------------------------------


def test_a_change_without_a_valid_csrf_token_is_refused_and_nothing_changes(app: FastAPI) -> None:
    admin = ConsoleClient(app)
    assert admin.login("admin1").status_code == 303
    admin.get("/console/users")

    no_token = admin.post("/console/users", _new_user_form("sin-token"), csrf=False)
    assert no_token.status_code == 403 and "no se pudo verificar" in no_token.text

    forged = URLSafeTimedSerializer("not-the-secret", salt="ventanilla-console-csrf").dumps(
        admin.http.cookies.get(csrf.COOKIE)
    )
    wrong_key = admin.post(
        "/console/users", [*_new_user_form("clave-ajena").items(), ("csrf_token", forged)], csrf=False
    )
    assert wrong_key.status_code == 403

    other_browser = ConsoleClient(app)
    other_browser.get("/console/login")  # a valid token, but for another browser's cookie
    stolen = admin.post(
        "/console/users", [*_new_user_form("otro-navegador").items(), ("csrf_token", other_browser.csrf)], csrf=False
    )
    assert stolen.status_code == 403

    cross_site = admin.post("/console/users", _new_user_form("otro-sitio"), headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403

    assert not _users(app) & {"sin-token", "clave-ajena", "otro-navegador", "otro-sitio"}
    ok = admin.post("/console/users", _new_user_form("con-token"), headers={"Origin": "http://testserver"})
    assert ok.status_code == 303 and "con-token" in _users(app)


def test_the_htmx_header_carries_the_token_and_the_login_form_needs_one_too(app: FastAPI) -> None:
    browser = ConsoleClient(app)
    page = browser.get("/console/login")
    assert "X-CSRF-Token" in page.text  # hx-headers on <body>
    refused = browser.post("/console/login", {"username": "carla", "password": PASSWORD}, csrf=False)
    assert refused.status_code == 403
    via_header = browser.http.post(
        "/console/login", data={"username": "carla", "password": PASSWORD}, headers={"X-CSRF-Token": browser.csrf}
    )
    assert via_header.status_code == 303


# --- cookies and expiry --------------------------------------------------------------------------------


def _set_cookie_headers(response: object) -> dict[str, str]:
    found = {}
    for header in response.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        found[header.split("=", 1)[0]] = header.lower()
    return found


def test_session_cookie_is_httponly_samesite_and_secure_over_https(app: FastAPI) -> None:
    plain = ConsoleClient(app)
    plain.get("/console/login")
    cookies = _set_cookie_headers(plain.post("/console/login", {"username": "carla", "password": PASSWORD}))
    session = cookies["ventanilla_session"]
    assert "httponly" in session and "samesite=lax" in session and "path=/console" in session
    assert "secure" not in session

    tls = ConsoleClient(app, base_url="https://testserver")
    tls.get("/console/login")
    cookies = _set_cookie_headers(tls.post("/console/login", {"username": "carla", "password": PASSWORD}))
    assert "secure" in cookies["ventanilla_session"]


def _session_rows(app: FastAPI, username: str) -> int:
    with app.state.ventanilla.sessions() as db:
        user_id = db.scalar(select(StaffUser.id).where(StaffUser.username == username))
        return len(list(db.scalars(select(StaffSession).where(StaffSession.user_id == user_id))))


def _age_sessions(app: FastAPI, username: str, **columns: timedelta) -> None:
    now = datetime.now(timezone.utc)
    with app.state.ventanilla.sessions() as db:
        user_id = db.scalar(select(StaffUser.id).where(StaffUser.username == username))
        db.execute(
            update(StaffSession)
            .where(StaffSession.user_id == user_id)
            .values(**{name: now - ago for name, ago in columns.items()})
        )
        db.commit()


def test_idle_session_expires(app: FastAPI) -> None:
    browser = ConsoleClient(app)
    browser.login("eva")
    assert browser.get("/console").status_code == 200
    _age_sessions(app, "eva", last_seen_at=timedelta(minutes=29))
    assert browser.get("/console").status_code == 200  # within the 30 idle minutes (and refreshed)
    _age_sessions(app, "eva", last_seen_at=timedelta(minutes=31))
    expired = browser.get("/console/account")
    assert expired.status_code == 303 and expired.headers["location"] == "/console/login?next=/console/account"
    assert _session_rows(app, "eva") == 0


def test_absolute_session_lifetime_ends_even_an_active_session(app: FastAPI) -> None:
    browser = ConsoleClient(app)
    browser.login("eva")
    _age_sessions(app, "eva", created_at=timedelta(hours=10, minutes=1), last_seen_at=timedelta(seconds=5))
    assert browser.get("/console").status_code == 303


def test_password_change_logs_out_everywhere_else(app: FastAPI) -> None:
    office, phone = ConsoleClient(app), ConsoleClient(app)
    office.login("dario")
    phone.login("dario")
    office.get("/console/account")
    weak = office.post("/console/account/password", {"current_password": PASSWORD, "new_password": "password1234"})
    assert weak.status_code == 422 and "demasiado común" in weak.text
    assert 'aria-describedby="hint-new_password err-new_password"' in weak.text
    short = office.post("/console/account/password", {"current_password": PASSWORD, "new_password": "corta"})
    assert short.status_code == 422 and "al menos 12 caracteres" in short.text
    assert phone.get("/console").status_code == 200  # refused changes end nothing

    changed = office.post(
        "/console/account/password", {"current_password": PASSWORD, "new_password": "un puente de madera azul"}
    )
    assert changed.status_code == 303
    assert phone.get("/console").status_code == 303  # the other device is out
    assert office.get("/console").status_code == 200  # this one got a fresh session
    assert _session_rows(app, "dario") == 1
    relogin = ConsoleClient(app)
    assert relogin.login("dario", PASSWORD).status_code == 401
    assert relogin.login("dario", "un puente de madera azul").status_code == 303


def test_admin_disables_an_account_and_its_sessions_end(app: FastAPI) -> None:
    admin, carla = ConsoleClient(app), ConsoleClient(app)
    admin.login("admin2")
    carla.login("carla")
    admin.get("/console/users/carla")
    assert admin.post("/console/users/carla/active", {"active": "0"}).status_code == 303
    assert carla.get("/console").status_code == 303
    assert ConsoleClient(app).login("carla").status_code == 401
    admin.get("/console/users/carla")
    assert admin.post("/console/users/carla/active", {"active": "1"}).status_code == 303
    with app.state.ventanilla.sessions() as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.actor == "admin2"))]
    assert actions[-2:] == ["user.disabled", "user.enabled"]


def test_the_last_admin_cannot_lock_everyone_out(app: FastAPI) -> None:
    admin = ConsoleClient(app)
    admin.login("admin1")
    admin.get("/console/users/admin2")
    assert admin.post("/console/users/admin2/active", {"active": "0"}).status_code == 303
    admin.get("/console/users/admin1")
    refused = admin.post("/console/users/admin1/active", {"active": "0"})
    assert refused.status_code == 422 and "última cuenta administradora" in refused.text
    admin.get("/console/users/admin2")
    admin.post("/console/users/admin2/active", {"active": "1"})


# --- throttling ---------------------------------------------------------------------------------------


def _forget_attempts(app: FastAPI) -> None:
    """Earlier tests' failed logins (a disabled account's, for one) must not count here."""
    with app.state.ventanilla.sessions() as db:
        db.execute(delete(LoginAttempt))
        db.commit()


def test_login_is_throttled_per_account(app: FastAPI) -> None:
    _forget_attempts(app)
    attacker = ConsoleClient(app, address="203.0.113.7")
    for _ in range(3):
        assert attacker.login("carla", "no es la contraseña").status_code == 401
    blocked = attacker.login("carla", PASSWORD)  # even the right password, from anywhere
    assert blocked.status_code == 429 and "demasiados intentos" in blocked.text.lower()
    assert ConsoleClient(app, address="198.51.100.2").login("carla").status_code == 429
    assert ConsoleClient(app, address="203.0.113.7").login("eva").status_code == 303  # other accounts unaffected
    with app.state.ventanilla.sessions() as db:  # stored as keyed hashes only
        stored = {a.username for a in db.scalars(select(LoginAttempt))}
        assert "carla" not in stored and all(len(u) == 64 for u in stored)
        db.execute(update(LoginAttempt).values(at=datetime.now(timezone.utc) - timedelta(minutes=16)))
        db.commit()
    assert ConsoleClient(app).login("carla").status_code == 303  # the window passed


def test_login_is_throttled_per_address(app: FastAPI) -> None:
    _forget_attempts(app)
    sprayer = ConsoleClient(app, address="192.0.2.99")
    for index in range(6):
        sprayer.login(f"nadie{index}", "una contraseña cualquiera")
    assert sprayer.login("eva").status_code == 429  # a real account, right password, same address
    assert ConsoleClient(app, address="192.0.2.100").login("eva").status_code == 303


def test_unknown_user_and_wrong_password_read_the_same(app: FastAPI) -> None:
    first = ConsoleClient(app, address="192.0.2.10").login("nadie-aqui", "x" * 14)
    second = ConsoleClient(app, address="192.0.2.11").login("eva", "x" * 14)
    assert first.status_code == second.status_code == 401
    assert "Usuario o contraseña incorrectos." in first.text and "Usuario o contraseña incorrectos." in second.text


# --- escaping and redirects ---------------------------------------------------------------------------


def test_markup_typed_by_staff_is_shown_as_text(app: FastAPI) -> None:
    admin = ConsoleClient(app)
    admin.login("admin1")
    admin.get("/console/users")
    admin.post(
        "/console/users",
        {**_new_user_form("marcado"), "display_name": '<script>alert("x")</script><img src=x onerror=alert(1)>'},
    )
    for page in ("/console/users", "/console/users/marcado", "/console/audit"):
        html = admin.get(page).text
        assert "<script>alert" not in html and "<img src=x" not in html, page
        assert "&lt;script&gt;alert(" in html, page
    echoed = ConsoleClient(app).get('/console/login?next="><script>alert(1)</script>').text
    assert "<script>alert(1)" not in echoed


def test_login_never_redirects_off_the_console(app: FastAPI) -> None:
    for target in ("//evil.example/x", "https://evil.example", "/console\\..\\evil", "/staff/cases"):
        browser = ConsoleClient(app)
        browser.get("/console/login")
        response = browser.post("/console/login", {"username": "eva", "password": PASSWORD, "next": target})
        assert response.status_code == 303 and response.headers["location"] == "/console", target


def test_pages_carry_security_headers(app: FastAPI) -> None:
    response = ConsoleClient(app).get("/console/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert re.search(r"ventanilla_csrf=[^;]+;.*HttpOnly", response.headers["set-cookie"], re.IGNORECASE)
