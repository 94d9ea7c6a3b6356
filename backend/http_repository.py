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

import httpx

from backend.repository import CaseStatusView, InvalidCase, NewCase, VerificationLocked
from backend.schemas import CaseCreatedOut, CaseStatusOut, CitizenCasesOut
from backend.service_client import CaseServiceError, ServiceClient

__all__ = ["CaseServiceError", "HttpCaseRepository"]

logger = logging.getLogger(__name__)


class HttpCaseRepository(ServiceClient):
    """Synchronous HTTP client of the case-service contract.

    Every call is retried on connection errors and 5xx answers: creating a case is
    idempotent, so a retry after a lost answer returns the same code.
    """

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
        response = self.post("/internal/cases", body, retry=True)
        if response.status_code in (200, 201):
            return CaseCreatedOut.model_validate(response.json()).code
        if response.status_code == 422:
            raise InvalidCase("the case service refused the submission")
        raise self.failure(response, "open_case")

    @staticmethod
    def _locked(response: httpx.Response) -> VerificationLocked:
        try:
            seconds = float(response.headers.get("Retry-After") or 60)
        except ValueError:
            seconds = 60.0
        return VerificationLocked(seconds)

    def status_for_citizen(self, code: str, verification: str, *, sender_id: str = "") -> CaseStatusView | None:
        body: dict[str, object] = {"code": code, "verification": verification, "sender_id": sender_id}
        response = self.post("/internal/cases/status", body, retry=True)
        if response.status_code == 429:
            raise self._locked(response)
        if response.status_code == 200:
            return CaseStatusOut.model_validate(response.json()).to_view()
        if response.status_code in (404, 422):
            return None
        raise self.failure(response, "status_for_citizen")

    def cases_for_citizen(self, sender_id: str, verification: str) -> list[CaseStatusView]:
        response = self.post(
            "/internal/citizen-cases", {"sender_id": sender_id, "verification": verification}, retry=True
        )
        if response.status_code == 429:
            raise self._locked(response)
        if response.status_code == 200:
            return [c.to_view() for c in CitizenCasesOut.model_validate(response.json()).cases]
        if response.status_code == 422:
            return []
        raise self.failure(response, "cases_for_citizen")
