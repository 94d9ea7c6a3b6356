"""The internal case API: the REST contract behind ``HttpCaseRepository``.

The action server (or any client holding the case-service token) opens cases and
asks for their status here. An agency can implement these three endpoints in front
of its own workflow system instead; backend/README.md documents the contract.
Errors never echo the request (it carries document numbers).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import JSONResponse

from backend.deps import State, require_service
from backend.repository import InvalidCase, NewCase, VerificationLocked
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
LOCKED_DETAIL = "Demasiados intentos de verificación fallidos. Vuelva a intentar más tarde."
LOCKED_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many failed verifications for this code or channel user (Retry-After)."}
}


def locked(exc: VerificationLocked) -> JSONResponse:
    """429 with Retry-After: the lockout of ``backend.lockout``, same for known and unknown codes."""
    seconds = int(exc.retry_after + 0.999)
    return JSONResponse(
        {"detail": LOCKED_DETAIL, "retry_after": seconds}, status_code=429, headers={"Retry-After": str(seconds)}
    )


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
    responses={
        404: {"description": "Unknown code or wrong verification (indistinguishable on purpose)."},
        **LOCKED_RESPONSE,
    },
)
def case_status(body: StatusQueryIn, state: State) -> CaseStatusOut | JSONResponse:
    """The status of a case for a citizen who proved who they are (last 4 document characters)."""
    try:
        view = state.repository.status_for_citizen(body.code, body.verification, sender_id=body.sender_id)
    except VerificationLocked as exc:
        return locked(exc)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND_DETAIL)
    return CaseStatusOut.from_view(view)


@router.post("/citizen-cases", response_model=CitizenCasesOut, responses=LOCKED_RESPONSE)
def citizen_cases(body: CitizenCasesQueryIn, state: State) -> CitizenCasesOut | JSONResponse:
    """The citizen's own list ("mis trámites"): cases opened from this channel user whose document matches."""
    try:
        views = state.repository.cases_for_citizen(body.sender_id, body.verification)
    except VerificationLocked as exc:
        return locked(exc)
    return CitizenCasesOut(cases=[CaseStatusOut.from_view(v) for v in views])
