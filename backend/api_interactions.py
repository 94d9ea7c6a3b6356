"""The internal interaction API: the REST contract behind ``HttpInteractionRepository``.

When the action server reaches the case store over HTTP (``VENTANILLA_CASE_REPOSITORY=http``)
it stores feedback, ratings, suggestions and handoff requests here, with the same service
token as the internal case API. Errors never echo the request (it may carry personal data).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response, status

from backend.deps import State, require_service
from backend.interaction_schemas import (
    AnswerFeedbackIn,
    HandoffIn,
    HandoffMessageIn,
    HandoffOut,
    RatingIn,
    SuggestionIn,
    SuggestionOut,
    UnansweredIn,
)
from backend.unanswered.store import Candidate

router = APIRouter(
    prefix="/internal/interactions", tags=["internal interaction API"], dependencies=[Depends(require_service)]
)


def _refused(exc: ValueError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc))


@router.post("/answer-feedback", status_code=status.HTTP_204_NO_CONTENT)
def answer_feedback(body: AnswerFeedbackIn, state: State) -> Response:
    state.interactions.record_answer_feedback(**body.model_dump())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/ratings", status_code=status.HTTP_204_NO_CONTENT)
def rating(body: RatingIn, state: State) -> Response:
    try:
        state.interactions.record_rating(**body.model_dump())
    except ValueError as exc:
        raise _refused(exc) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/suggestions", status_code=status.HTTP_201_CREATED, response_model=SuggestionOut)
def suggestion(body: SuggestionIn, state: State) -> SuggestionOut:
    try:
        return SuggestionOut(topic=state.interactions.record_suggestion(**body.model_dump()))
    except ValueError as exc:
        raise _refused(exc) from None


@router.post("/handoffs", status_code=status.HTTP_201_CREATED, response_model=HandoffOut)
def open_handoff(body: HandoffIn, state: State) -> HandoffOut:
    return HandoffOut(reference=state.interactions.open_handoff(**body.model_dump()))


@router.post(
    "/handoffs/message",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No handoff request with this reference from this sender."}},
)
def leave_message(body: HandoffMessageIn, state: State) -> Response:
    if not state.interactions.leave_message(**body.model_dump()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No hay un pedido de atención con esa referencia.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/unanswered", status_code=status.HTTP_204_NO_CONTENT)
def unanswered(body: UnansweredIn, state: State) -> Response:
    values = body.model_dump(exclude={"candidates"})
    candidates = [Candidate(c.procedure_id, c.score) for c in body.candidates]
    try:
        state.interactions.record_unanswered(**values, candidates=candidates, secrets=[])
    except ValueError as exc:
        raise _refused(exc) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
