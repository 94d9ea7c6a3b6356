"""Permission matrix: every console route and action, for every role and for an anonymous visitor.

The routes come from the app's route table and the expected answer from the guard each
route declares (``Allow(roles)`` or ``PUBLIC``): a new route without a guard, or with a
path parameter this test has no sample for, fails here. Expected:

* anonymous on a guarded route -> 303 to /console/login;
* signed in without one of the roles -> 403;
* signed in with one of the roles -> anything but 401/403/a login redirect (the action may
  still be refused for other reasons, e.g. 409 "nothing to publish" or 422 "empty form").

Requests carry a valid CSRF token, so a 403 can only come from the role check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from backend.accounts.roles import Role
from backend.console.guard import Allow, Public
from backend.console.routes_content import publisher
from backend.content.publishing import Publisher
from knowledge_base.settings import SearchSettings
from tests.console.conftest import ACCOUNTS, ConsoleClient

SAMPLES = {
    "procedure_id": "carnet-vacunacion",
    "username": "edith",
    "number": "1",
    "fmt": "csv",
    "code": "EXP-2026-000001",
    "handoff_id": "999999",
}
# Bodies that keep the shared app usable while the matrix runs (e.g. "enable", not "disable").
FORMS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/console/users/{username}/active"): {"active": "1"},
    ("POST", "/console/users/{username}/roles"): {"roles": ["editor"]},
    ("POST", "/console/procedures/{procedure_id}/restore"): {"number": "1", "base_revision": "999"},
}
IDENTITIES = ["anonymous", *ACCOUNTS]


def _console_routes(app: FastAPI) -> list[tuple[APIRoute, list[Any]]]:
    """Every API route under /console, with the dependencies of the router that included it."""
    found: list[tuple[APIRoute, list[Any]]] = []

    def walk(routes: list[Any], inherited: list[Any]) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:  # FastAPI's lazily included router
                context = getattr(route, "include_context", None)
                walk(original.routes, inherited + list(getattr(context, "dependencies", []) or []))
            elif isinstance(route, APIRoute) and route.path.startswith("/console"):
                found.append((route, inherited))

    walk(app.routes, [])
    return found


def _guard(route: APIRoute) -> Allow | Public:
    guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, (Allow, Public))]
    assert len(guards) == 1, f"{route.path} declares {len(guards)} guards (Allow/PUBLIC); it needs exactly one"
    return guards[0]


def _cases(app: FastAPI) -> list[tuple[str, str, Allow | Public]]:
    cases = []
    for route, _ in _console_routes(app):
        for method in sorted(route.methods - {"HEAD"}):
            cases.append((method, route.path, _guard(route)))
    return cases


def _url(path: str) -> str:
    missing = [p for p in re.findall(r"{(\w+)}", path) if p not in SAMPLES]
    assert not missing, f"no sample value for path parameters {missing} of {path}: add them to SAMPLES"
    return re.sub(r"{(\w+)}", lambda m: SAMPLES[m.group(1)], path)


@pytest.fixture(scope="module")
def matrix_app(console_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    # A scratch index directory: the reviewer's "rollback" action must not touch a real index.
    scratch = Publisher(SearchSettings(index_dir=tmp_path_factory.mktemp("matrix-index")))
    console_app.dependency_overrides[publisher] = lambda: scratch
    yield console_app
    console_app.dependency_overrides.pop(publisher, None)


def test_every_console_route_declares_a_guard_and_has_samples(matrix_app: FastAPI) -> None:
    cases = _cases(matrix_app)
    assert len(cases) >= 30, f"only {len(cases)} console routes found: is the route table walk broken?"
    for _method, path, _guard in cases:
        _url(path)
    paths = {path for _, path, _ in cases}
    assert {"/console", "/console/login", "/console/users", "/console/audit", "/console/procedures"} <= paths


def _expected(guard: Allow | Public, identity: str) -> str:
    if isinstance(guard, Public):
        return "allowed"
    if identity == "anonymous":
        return "login"
    roles = ACCOUNTS[identity]
    return "allowed" if not guard.roles or guard.roles & roles else "forbidden"


def _outcome(response: Any) -> str:
    location = response.headers.get("location", "")
    if response.status_code in (302, 303, 307) and location.startswith("/console/login") and "ok=" not in location:
        return "login"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 401 and "ingresar" not in response.text.lower():
        return "unauthorized"
    return "allowed"


def test_permission_matrix(matrix_app: FastAPI, signed_in: dict[str, ConsoleClient]) -> None:
    anonymous = ConsoleClient(matrix_app)
    anonymous.get("/console/login")  # a CSRF cookie and token, like any visitor's browser
    failures = []
    checked = 0
    for method, path, guard in _cases(matrix_app):
        if path == "/console/logout":
            continue  # checked below with throw-away sessions
        for identity in IDENTITIES:
            client = anonymous if identity == "anonymous" else signed_in[identity]
            url = _url(path)
            response = client.http.get(url) if method == "GET" else client.post(url, FORMS.get((method, path), {}))
            expected, got = _expected(guard, identity), _outcome(response)
            checked += 1
            if expected != got:
                failures.append(
                    f"{method} {path} as {identity}: expected {expected}, got {got} ({response.status_code})"
                )
    assert not failures, "\n".join(failures)
    assert checked >= 30 * len(IDENTITIES)


def test_logout_needs_a_session_and_works_for_every_role(matrix_app: FastAPI) -> None:
    anonymous = ConsoleClient(matrix_app)
    assert _outcome(anonymous.post("/console/logout")) == "login"
    for identity in ("edith", "ada"):
        client = ConsoleClient(matrix_app)
        client.login(identity)
        response = client.post("/console/logout")
        assert response.status_code == 303 and response.headers["location"].startswith("/console/login?ok=")
        assert _outcome(client.http.get("/console")) == "login"  # the session is gone on the server


def test_the_staff_api_tokens_still_work_beside_the_console(matrix_app: FastAPI) -> None:
    """Machine clients keep their bearer tokens; a console cookie is no token for /staff."""
    member = ConsoleClient(matrix_app)
    member.login("ada")
    assert member.http.get("/staff/workflow").status_code == 401
    with TestClient(matrix_app) as machine:
        assert machine.get("/staff/workflow", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_roles_cover_every_role_of_the_product() -> None:
    assert {r.value for r in Role} == {"editor", "reviewer", "case_officer", "agent", "admin"}
    assert {role for roles in ACCOUNTS.values() for role in roles} == set(Role)
