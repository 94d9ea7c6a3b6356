"""Recording the turns the bot did not answer well, for the console's unanswered inbox.

Called by the knowledge answer (abstained, fell back, answered on a guessed intent) and
by the feedback actions ("no me sirvió", a 1-2 rating). What is stored goes through
``InteractionRepository.record_unanswered``, which masks the question; this module
adds the case form's values as secrets to mask, and never records a message typed
while a form was active (a name or document answered there must never reach the table).
Recording must never break the chat, so every failure is logged (without the text) and
swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from rasa_sdk import Tracker

from actions.services import get_services
from actions.tracker_info import input_channel
from backend.interactions import Candidate
from backend.unanswered.grouping import model_key
from backend.unanswered.masking import mask_question
from backend.unanswered.models import Reason
from backend.unanswered.predicted import predicted_intent
from knowledge_base.search import Hit

logger = logging.getLogger(__name__)

FORM_SLOTS = ("full_name", "document_number", "contact")
QUESTION_INTENTS = frozenset({"ask_procedure", "nlu_fallback", "out_of_scope"})


@dataclass(frozen=True)
class Turn:
    text: str
    intent: str
    confidence: float | None


def candidates_from(hits: Iterable[Hit]) -> list[Candidate]:
    """The best score per procedure, best first (at most five)."""
    best: dict[str, float] = {}
    for hit in hits:
        best[hit.procedure_id] = max(best.get(hit.procedure_id, -1.0), float(hit.score))
    return [Candidate(pid, score) for pid, score in sorted(best.items(), key=lambda kv: -kv[1])][:5]


def user_turns(tracker: Tracker) -> list[Turn]:
    """The citizen's typed messages outside forms, oldest first (buttons and form answers left out)."""
    turns: list[Turn] = []
    in_loop = False
    for event in tracker.events:
        kind = event.get("event")
        if kind == "active_loop":
            in_loop = bool(event.get("name"))
        elif kind == "user" and not in_loop:
            text = str(event.get("text") or "").strip()
            if text and not text.startswith("/"):
                intent, confidence = predicted_intent(event.get("parse_data") or {})
                turns.append(Turn(text, intent, confidence))
    return turns


def previous_question(tracker: Tracker) -> Turn | None:
    """The question before the latest message (what "no me sirvió" or a bad rating is about)."""
    earlier = user_turns(tracker)[:-1] if tracker.latest_message.get("text") else user_turns(tracker)
    questions = [t for t in earlier if t.intent in QUESTION_INTENTS]
    return questions[-1] if questions else None


def form_secrets(tracker: Tracker) -> list[str]:
    return [str(v) for v in (tracker.get_slot(name) for name in FORM_SLOTS) if v]


def _embedding(masked: str) -> tuple[list[float] | None, str]:
    """The masked question's vector with the search's own (already loaded) embedder, for the inbox."""
    services = get_services()
    try:
        vector = services.search.searcher().embedder.embed_queries([masked])[0]
    except Exception:  # the inbox embeds it later itself
        logger.exception("unanswered turn not embedded")
        return None, ""
    return [float(v) for v in vector], model_key(services.settings.kb.embedder, services.settings.kb.model)


def record(tracker: Tracker, reason: str, turn: Turn, candidates: list[Candidate]) -> None:
    """Stores one unanswered turn; never raises."""
    if tracker.active_loop.get("name"):
        return  # inside a form: the message may be a name or a document number
    try:
        services = get_services()
        secrets = form_secrets(tracker)
        masked = mask_question(turn.text, case_code_prefix=services.settings.case_code_prefix, secrets=secrets)
        embedding, model = _embedding(masked)
        services.interactions.record_unanswered(
            sender_id=tracker.sender_id,
            channel=input_channel(tracker),
            reason=reason,
            question=masked,
            intent=turn.intent,
            intent_confidence=turn.confidence,
            candidates=candidates,
            secrets=secrets,
            embedding=embedding,
            embedding_model=model,
        )
    except Exception:  # losing one record must not break the chat
        logger.exception("unanswered turn not stored reason=%s", reason)


def latest_turn(tracker: Tracker) -> Turn:
    intent, confidence = predicted_intent(tracker.latest_message)
    return Turn(str(tracker.latest_message.get("text") or "").strip(), intent, confidence)


def _low_confidence() -> float:
    """Below it an answered turn is listed for intent review (FallbackClassifier is at 0.45)."""
    return get_services().settings.unanswered_low_confidence


def record_answer(tracker: Tracker, hits: list[Hit], *, answered: bool) -> None:
    """After the knowledge answer: abstained / fell back, or answered on a guessed intent."""
    turn = latest_turn(tracker)
    if not turn.text or turn.text.startswith("/"):
        return
    fell_back = str((tracker.latest_message.get("intent") or {}).get("name") or "") == "nlu_fallback"
    if not answered:
        record(tracker, Reason.FALLBACK if fell_back else Reason.ABSTAINED, turn, candidates_from(hits))
    elif fell_back or (turn.confidence is not None and turn.confidence < _low_confidence()):
        record(tracker, Reason.LOW_CONFIDENCE, turn, candidates_from(hits))


def record_feedback(tracker: Tracker, reason: str) -> None:
    """After "no me sirvió" or a 1-2 rating: the question it was about, with fresh candidates."""
    turn = previous_question(tracker)
    if turn is None:
        return
    try:
        result = get_services().search.searcher().search(turn.text)
        candidates = candidates_from(result.closest or result.hits)
    except Exception:
        logger.exception("candidates for an unanswered turn not found")
        candidates = []
    record(tracker, reason, turn, candidates)
