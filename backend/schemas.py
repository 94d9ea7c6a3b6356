"""Request and response bodies of the backend's HTTP APIs (the REST contract).

The internal case API's bodies are the contract an agency's own workflow system
implements to sit behind ``HttpCaseRepository``; see backend/README.md.
No response model has a field for document hashes, verification hashes or the
channel user id: they cannot leak through the API by accident.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from backend.repository import LIMITS, CaseStatusView


def _limit(name: str) -> int:
    return LIMITS[name]


# --- internal case API (action server -> backend) -----------------------------------


class NewCaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    procedure_id: str = Field(min_length=1, max_length=_limit("procedure_id"))
    full_name: str = Field(min_length=1, max_length=_limit("full_name"))
    document_number: str = Field(min_length=4, max_length=_limit("document_number"))
    contact: str = Field(min_length=1, max_length=_limit("contact"))
    channel: str = Field(min_length=1, max_length=_limit("channel"))
    sender_id: str = Field(min_length=1, max_length=_limit("sender_id"))
    idempotency_key: str = Field(min_length=1, max_length=_limit("idempotency_key"))
    notify_opt_in: bool = True


class CaseCreatedOut(BaseModel):
    code: str


class StatusQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)
    verification: str = Field(min_length=1, max_length=40)
    # The channel user asking: failed verifications also count against them (lockout).
    sender_id: str = Field(default="", max_length=_limit("sender_id"))


class CitizenCasesQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender_id: str = Field(min_length=1, max_length=_limit("sender_id"))
    verification: str = Field(min_length=1, max_length=40)


class CaseStatusOut(BaseModel):
    code: str
    procedure_id: str
    status: str
    label: str
    explanation: str
    updated_at: datetime
    created_at: datetime | None = None
    expected_days: int | None = None
    expected_date: date | None = None

    @classmethod
    def from_view(cls, view: CaseStatusView) -> CaseStatusOut:
        return cls(
            code=view.code,
            procedure_id=view.procedure_id,
            status=view.status,
            label=view.label,
            explanation=view.explanation,
            updated_at=view.updated_at,
            created_at=view.created_at,
            expected_days=view.expected_days,
            expected_date=view.expected_date,
        )

    def to_view(self) -> CaseStatusView:
        return CaseStatusView(
            code=self.code,
            procedure_id=self.procedure_id,
            status=self.status,
            explanation=self.explanation,
            updated_at=self.updated_at,
            expected_days=self.expected_days,
            label=self.label,
            expected_date=self.expected_date,
            created_at=self.created_at,
        )


class CitizenCasesOut(BaseModel):
    cases: list[CaseStatusOut]


# --- staff API ------------------------------------------------------------------------


class CaseSummaryOut(BaseModel):
    code: str
    procedure_id: str
    status: str
    channel: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    anonymized: bool


class CasePageOut(BaseModel):
    items: list[CaseSummaryOut]
    total: int
    page: int
    page_size: int
    pages: int


class HistoryEntryOut(BaseModel):
    changed_at: datetime
    changed_by: str
    from_status: str | None
    to_status: str
    note: str | None


class NoteOut(BaseModel):
    id: int
    created_at: datetime
    author: str
    text: str


class CaseDetailOut(CaseSummaryOut):
    full_name: str | None
    contact: str | None
    notify_opt_in: bool
    status_label: str
    citizen_explanation: str
    allowed_next: list[str]
    history: list[HistoryEntryOut]
    notes: list[NoteOut]


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(min_length=1, max_length=40, description="Estado nuevo, p. ej. 'en_revision'.")
    note: str | None = Field(default=None, max_length=4000, description="Motivo o comentario del cambio.")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    case_code: str | None
    details: dict[str, Any]


class AuditPageOut(BaseModel):
    items: list[AuditEventOut]
    total: int
    page: int
    page_size: int


class NotificationOut(BaseModel):
    id: int
    case_code: str
    to_status: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


class WorkflowOut(BaseModel):
    statuses: list[str]
    transitions: dict[str, list[str]]
    labels: dict[str, str]
