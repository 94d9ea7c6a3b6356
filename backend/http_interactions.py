"""``InteractionRepository`` over HTTP: the action server stores interactions through the
backend's internal interaction API (``backend.api_interactions``) when the case store is a
service (``VENTANILLA_CASE_REPOSITORY=http``), so it never opens the database itself.

None of these writes is idempotent, so none is retried: a lost answer loses one rating
rather than storing it twice.
"""

from __future__ import annotations

import httpx

from backend.codes import DEFAULT_PREFIX
from backend.interaction_schemas import HandoffOut, SuggestionOut
from backend.service_client import ServiceClient
from backend.unanswered.masking import mask_question
from backend.unanswered.store import Candidate

_PREFIX = "/internal/interactions"


class HttpInteractionRepository(ServiceClient):
    case_code_prefix = DEFAULT_PREFIX  # the deployment's prefix: set by ``actions.services``

    def _send(self, path: str, body: dict[str, object], what: str, ok: int) -> httpx.Response:
        response = self.post(_PREFIX + path, body, retry=False)
        if response.status_code == 422:
            raise ValueError(f"{what}: the service refused the input")
        if response.status_code != ok:
            raise self.failure(response, what)
        return response

    def record_answer_feedback(self, *, sender_id: str, channel: str, procedure_id: str | None, helpful: bool) -> None:
        body: dict[str, object] = {
            "sender_id": sender_id,
            "channel": channel,
            "procedure_id": procedure_id,
            "helpful": helpful,
        }
        self._send("/answer-feedback", body, "record_answer_feedback", 204)

    def record_rating(self, *, sender_id: str, channel: str, score: int | None, comment: str | None) -> None:
        body: dict[str, object] = {"sender_id": sender_id, "channel": channel, "score": score, "comment": comment}
        self._send("/ratings", body, "record_rating", 204)

    def record_suggestion(self, *, sender_id: str, channel: str, text: str, topic: str | None = None) -> str:
        body: dict[str, object] = {"sender_id": sender_id, "channel": channel, "text": text, "topic": topic}
        response = self._send("/suggestions", body, "record_suggestion", 201)
        return SuggestionOut.model_validate(response.json()).topic

    def open_handoff(self, *, sender_id: str, channel: str, during_office_hours: bool, summary: str) -> str:
        body: dict[str, object] = {
            "sender_id": sender_id,
            "channel": channel,
            "during_office_hours": during_office_hours,
            "summary": summary,
        }
        response = self._send("/handoffs", body, "open_handoff", 201)
        return HandoffOut.model_validate(response.json()).reference

    def leave_message(self, *, reference: str, sender_id: str, message: str) -> bool:
        response = self.post(
            _PREFIX + "/handoffs/message",
            {"reference": reference, "sender_id": sender_id, "message": message},
            retry=False,
        )
        if response.status_code == 404:
            return False
        if response.status_code == 422:
            raise ValueError("leave_message: the service refused the input")
        if response.status_code != 204:
            raise self.failure(response, "leave_message")
        return True

    def record_unanswered(
        self,
        *,
        sender_id: str,
        channel: str,
        reason: str,
        question: str,
        intent: str,
        intent_confidence: float | None,
        candidates: list[Candidate],
        secrets: list[str],
        embedding: list[float] | None = None,
        embedding_model: str = "",
    ) -> None:
        """Masks here first, so the case form's values never travel; the service masks again."""
        body: dict[str, object] = {
            "sender_id": sender_id,
            "channel": channel,
            "reason": reason,
            "question": mask_question(question, case_code_prefix=self.case_code_prefix, secrets=secrets),
            "intent": intent,
            "intent_confidence": intent_confidence,
            "candidates": [{"procedure_id": c.procedure_id, "score": c.score} for c in candidates],
            "embedding": embedding,
            "embedding_model": embedding_model,
        }
        self._send("/unanswered", body, "record_unanswered", 204)
