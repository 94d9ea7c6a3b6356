"""The HTTP client the action server uses to reach the backend's internal API (or an
agency's own service implementing the same contract): bearer token, timeouts, retries."""

from __future__ import annotations

import time

import httpx


class CaseServiceError(RuntimeError):
    """The service failed or answered something outside the contract."""


class ServiceClient:
    """Synchronous JSON POSTs with the service token.

    ``retry=True`` repeats a request after connection errors and 5xx answers: only for
    requests that are idempotent (a retry after a lost answer must not write twice).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if token is None:
            from backend.settings import StoreSettings

            token = StoreSettings().case_service_token
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
        )
        self._retries = retries

    def close(self) -> None:
        self._client.close()

    def post(self, path: str, body: dict[str, object], *, retry: bool) -> httpx.Response:
        attempts = 1 + (self._retries if retry else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.post(path, json=body)
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise CaseServiceError(f"case service unreachable ({type(exc).__name__})") from None
            else:
                if response.status_code < 500 or attempt == attempts:
                    return response
            time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def failure(response: httpx.Response, what: str) -> CaseServiceError:
        # The body is not included: the service may echo what we sent.
        return CaseServiceError(f"{what}: case service answered HTTP {response.status_code}")
