"""The internal case API: the REST contract behind ``HttpCaseRepository``.

The action server (or any client holding the case-service token) opens cases and
asks for their status here. An agency can implement these three endpoints in front
of its own workflow system instead; backend/README.md documents the contract.
Errors never echo the request (it carries document numbers).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from backend.deps import State, require_service
from backend.repository import InvalidCase, NewCase
from backend.schemas import (
    CaseCreatedOut,
    CaseStatusOut,
    CitizenCasesOut,
    CitizenCasesQueryIn,
    NewCaseIn,
    StatusQueryIn,
)

router = APIRouter(prefix="/internal", tags=["internal case API"], dependencies=[Depends(require_service)])

NOT_FOUND_DETAIL = "No hay un trámite con ese código y esa verificación."


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CaseCreatedOut)
def open_case(body: NewCaseIn, state: State) -> CaseCreatedOut:
    """Opens a case, idempotently: the same ``idempotency_key`` always returns the same code."""
    try:
        code = state.repository.open_case(NewCase(**body.model_dump()))
    except InvalidCase as exc:
        raise HTTPException(422, detail=str(exc)) from None
    return CaseCreatedOut(code=code)


@router.post(
    "/cases/status",
    response_model=CaseStatusOut,
    responses={404: {"description": "Unknown code or wrong verification (indistinguishable on purpose)."}},
)
def case_status(body: StatusQueryIn, state: State) -> CaseStatusOut:
    """The status of a case for a citizen who proved who they are (last 4 document characters)."""
    view = state.repository.status_for_citizen(body.code, body.verification)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND_DETAIL)
    return CaseStatusOut.from_view(view)


@router.post("/citizen-cases", response_model=CitizenCasesOut)
def citizen_cases(body: CitizenCasesQueryIn, state: State) -> CitizenCasesOut:
    """The citizen's own list ("mis trámites"): cases opened from this channel user whose document matches."""
    views = state.repository.cases_for_citizen(body.sender_id, body.verification)
    return CitizenCasesOut(cases=[CaseStatusOut.from_view(v) for v in views])
