"""``CaseRepository`` over HTTP: the action server talks to a case service.

The service is the backend's internal case API (``backend.api_internal``) or an
agency's own workflow system implementing the same REST contract (backend/README.md):

* ``POST /internal/cases`` -> 201 ``{"code": ...}`` (idempotent on ``idempotency_key``)
* ``POST /internal/cases/status`` -> 200 status, or 404 for unknown code *or* wrong verification
* ``POST /internal/citizen-cases`` -> 200 ``{"cases": [...]}``

all with ``Authorization: Bearer <VENTANILLA_CASE_SERVICE_TOKEN>``.
"""

from __future__ import annotations

import logging
import time

import httpx

from backend.repository import CaseStatusView, InvalidCase, NewCase, VerificationLocked
from backend.schemas import CaseCreatedOut, CaseStatusOut, CitizenCasesOut

logger = logging.getLogger(__name__)


class CaseServiceError(RuntimeError):
    """The case service failed or answered something outside the contract."""


class HttpCaseRepository:
    """Synchronous HTTP client of the case-service contract.

    Creating a case is retried on connection errors and 5xx answers: it is
    idempotent, so a retry after a lost answer returns the same code.
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

    def _post(self, path: str, body: dict[str, object], *, retry: bool) -> httpx.Response:
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
    def _fail(response: httpx.Response, what: str) -> CaseServiceError:
        # The body is not included: the service may echo what we sent.
        return CaseServiceError(f"{what}: case service answered HTTP {response.status_code}")

    def open_case(self, new_case: NewCase) -> str:
        new_case.validate()
        body = {
            "procedure_id": new_case.procedure_id,
            "full_name": new_case.full_name,
            "document_number": new_case.document_number,
            "contact": new_case.contact,
            "channel": new_case.channel,
            "sender_id": new_case.sender_id,
            "idempotency_key": new_case.idempotency_key,
            "notify_opt_in": new_case.notify_opt_in,
        }
        response = self._post("/internal/cases", body, retry=True)
        if response.status_code in (200, 201):
            return CaseCreatedOut.model_validate(response.json()).code
        if response.status_code == 422:
            raise InvalidCase("the case service refused the submission")
        raise self._fail(response, "open_case")

    @staticmethod
    def _locked(response: httpx.Response) -> VerificationLocked:
        try:
            seconds = float(response.headers.get("Retry-After") or 60)
        except ValueError:
            seconds = 60.0
        return VerificationLocked(seconds)

    def status_for_citizen(self, code: str, verification: str, *, sender_id: str = "") -> CaseStatusView | None:
        body = {"code": code, "verification": verification, "sender_id": sender_id}
        response = self._post("/internal/cases/status", body, retry=True)
        if response.status_code == 429:
            raise self._locked(response)
        if response.status_code == 200:
            return CaseStatusOut.model_validate(response.json()).to_view()
        if response.status_code in (404, 422):
            return None
        raise self._fail(response, "status_for_citizen")

    def cases_for_citizen(self, sender_id: str, verification: str) -> list[CaseStatusView]:
        response = self._post(
            "/internal/citizen-cases", {"sender_id": sender_id, "verification": verification}, retry=True
        )
        if response.status_code == 429:
            raise self._locked(response)
        if response.status_code == 200:
            return [c.to_view() for c in CitizenCasesOut.model_validate(response.json()).cases]
        if response.status_code == 422:
            return []
        raise self._fail(response, "cases_for_citizen")
