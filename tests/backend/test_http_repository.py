"""HttpCaseRepository's own behaviour: authentication, retries, failures without leaks."""

from __future__ import annotations

import json

import httpx
import pytest

from backend.http_repository import CaseServiceError, HttpCaseRepository
from launcher.stack import free_port
from tests.backend.conftest import LiveBackend, new_case


def test_a_wrong_service_token_is_an_error_not_a_missing_case(live_backend: LiveBackend) -> None:
    repo = HttpCaseRepository(live_backend.url, token="not-the-token")
    with pytest.raises(CaseServiceError, match="HTTP 401"):
        repo.open_case(new_case("wrong-token"))
    with pytest.raises(CaseServiceError, match="HTTP 401"):
        repo.status_for_citizen("EXP-2026-000001", "1234")
    repo.close()


def test_an_unreachable_service_is_an_error_after_retries() -> None:
    repo = HttpCaseRepository(f"http://127.0.0.1:{free_port()}", token="t", retries=1, timeout=2)
    with pytest.raises(CaseServiceError, match="unreachable") as info:
        repo.open_case(new_case("down"))
    assert "30123456" not in str(info.value)
    repo.close()


def test_creation_is_retried_with_the_same_idempotency_key_after_5xx() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        if len(seen) < 3:
            return httpx.Response(503, json={"detail": "busy"})
        return httpx.Response(201, json={"code": "EXP-2026-000042"})

    repo = HttpCaseRepository("http://case-service", token="t", transport=httpx.MockTransport(handler))
    assert repo.open_case(new_case("retry")) == "EXP-2026-000042"
    assert len(seen) == 3 and len({s["idempotency_key"] for s in seen}) == 1


def test_a_service_error_does_not_carry_the_response_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=request.content.decode())  # a service that echoes the request

    repo = HttpCaseRepository("http://case-service", token="t", retries=0, transport=httpx.MockTransport(handler))
    with pytest.raises(CaseServiceError) as info:
        repo.open_case(new_case("echo", document="30123456"))
    assert "30123456" not in str(info.value) and "HTTP 500" in str(info.value)
