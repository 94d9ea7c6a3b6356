"""Fixtures of the console tests: the real backend app on a real SQLite file, seeded with
the shipped content (through the content service's file sync) and one account per role.

One app per test module (Argon2 hashing makes each account cost about a second here);
tests that change accounts make their own. ``ConsoleClient`` is a signed-in browser:
it keeps cookies and reads the CSRF token from the last page, as a browser's form would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.accounts import service as accounts
from backend.accounts.roles import Role
from backend.api import create_app
from backend.content import service as content
from backend.settings import BackendSettings

PASSWORD = "una frase larga de prueba"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
# One account per role, and one with several.
ACCOUNTS: dict[str, frozenset[Role]] = {
    "edith": frozenset({Role.EDITOR}),
    "rita": frozenset({Role.REVIEWER}),
    "oscar": frozenset({Role.CASE_OFFICER}),
    "agus": frozenset({Role.AGENT}),
    "ada": frozenset({Role.ADMIN}),
}


def console_settings(var_dir: Path, **overrides: Any) -> BackendSettings:
    values: dict[str, Any] = {
        "var_dir": var_dir,
        "env": "test",
        "notify_enabled": False,
        "case_hash_key": "test-hash-key-0123456789abcdef0123456789",
        "console_secret": "test-console-secret-0123456789abcdef",
        "content_seed_on_start": False,  # seed() below does it, only where a test needs content
        # pages wait for a running inbox regroup (deterministic tests; the bench measures the 0.1 s default)
        "unanswered_page_wait_seconds": 30.0,
        **overrides,
    }
    return BackendSettings(**values)


def seed(app: FastAPI, users: dict[str, frozenset[Role]], *, with_content: bool = True) -> None:
    """The shipped procedures (published v1 each) and the given accounts."""
    state = app.state.ventanilla
    with state.sessions() as db:
        if with_content:
            content.sync_from_files(db)
        for username, roles in users.items():
            accounts.create_user(
                db,
                username=username,
                display_name=username.title(),
                password=PASSWORD,
                roles=roles,
                actor="test",
                min_length=12,
            )
        db.commit()


class ConsoleClient:
    """One browser: a cookie jar over the app, and the CSRF token of the last page it read."""

    def __init__(self, app: FastAPI, base_url: str = "http://testserver", address: str = "testclient") -> None:
        self.http = TestClient(app, base_url=base_url, follow_redirects=False, client=(address, 50000))
        self.csrf = ""

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.http.get(url, **kwargs)
        found = CSRF_INPUT.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(
        self, url: str, data: dict[str, Any] | list[tuple[str, Any]] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> Any:
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            if not self.csrf:
                self.get("/console/login")
            items.append(("csrf_token", self.csrf))
        form: dict[str, list[Any]] = {}
        for key, value in items:
            form.setdefault(key, []).extend(value if isinstance(value, list) else [value])
        response = self.http.post(url, data=form, **kwargs)
        found = CSRF_INPUT.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def login(self, username: str, password: str = PASSWORD) -> Any:
        self.get("/console/login")
        return self.post("/console/login", {"username": username, "password": password, "next": "/console"})


@pytest.fixture(scope="module")
def console_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    app = create_app(console_settings(tmp_path_factory.mktemp("console-var")), run_dispatcher=False)
    with TestClient(app):  # runs the lifespan: migrations
        seed(app, ACCOUNTS)
        yield app


@pytest.fixture(scope="module")
def signed_in(console_app: FastAPI) -> dict[str, ConsoleClient]:
    """A signed-in client per account of ACCOUNTS."""
    clients = {}
    for username in ACCOUNTS:
        client = ConsoleClient(console_app)
        assert client.login(username).status_code == 303
        clients[username] = client
    return clients
