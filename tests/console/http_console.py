"""A signed-in console user over real HTTP (httpx), for tests against a running stack.

Like ``tests.console.conftest.ConsoleClient`` but for a backend in another process:
keeps cookies, and sends the CSRF token read from the last page with every form.
Accounts are created straight in the stack's database (its ``var_dir``/cases.db).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from backend.accounts import service as accounts
from backend.accounts.roles import Role
from tests.console.conftest import CSRF_INPUT, PASSWORD


def create_account(var_dir: Path, username: str, roles: frozenset[Role]) -> None:
    engine = create_engine(f"sqlite:///{var_dir / 'cases.db'}")
    try:
        with Session(engine) as db:
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
    finally:
        engine.dispose()


class HttpConsole:
    def __init__(self, backend_url: str) -> None:
        self.http = httpx.Client(base_url=backend_url, follow_redirects=False, timeout=30)
        self.csrf = ""

    def _remember(self, response: httpx.Response) -> httpx.Response:
        found = CSRF_INPUT.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._remember(self.http.get(url, **kwargs))

    def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        return self._remember(self.http.post(url, data={**data, "csrf_token": self.csrf}))

    def login(self, username: str) -> httpx.Response:
        self.get("/console/login")
        response = self.post("/console/login", {"username": username, "password": PASSWORD, "next": "/console"})
        assert response.status_code == 303, response.text[:500]
        return response

    def close(self) -> None:
        self.http.close()
