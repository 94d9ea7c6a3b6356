"""Opening a case and telling a verified citizen its status."""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import get_services
from actions.validators import clean_contact, clean_document, clean_name
from backend.codes import normalize_code
from backend.repository import NewCase, submission_key

logger = logging.getLogger(__name__)

FORM_SLOTS = ("procedure", "full_name", "document_number", "contact", "data_consent")
MAX_FAILED_VERIFICATIONS = 3
LOCKOUT_SECONDS = 15 * 60

STATUS_LABELS = {
    "recibido": "recibido",
    "en_revision": "en revisión",
    "requiere_documentacion": "requiere documentación",
    "aprobado": "aprobado",
    "rechazado": "rechazado",
    "cerrado": "cerrado",
}


class ValidateOpenCaseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_open_case_form"

    def validate_procedure(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        services = get_services()
        text = str(value or "").strip()
        if text in services.titles:
            return {"procedure": text}
        result = services.search.searcher().search(text, top_k=1) if text else None
        if result and result.hits:
            return {"procedure": result.hits[0].procedure_id}
        dispatcher.utter_message(response="utter_procedure_unknown")
        return {"procedure": None}

    def validate_full_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        name = clean_name(str(value or ""))
        if name is None:
            dispatcher.utter_message(response="utter_name_invalid")
        return {"full_name": name}

    def validate_document_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        document = clean_document(str(value or ""), get_services().settings.document_profile)
        if document is None:
            dispatcher.utter_message(response="utter_document_invalid")
        return {"document_number": document}

    def validate_contact(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        contact = clean_contact(str(value or ""))
        if contact is None:
            dispatcher.utter_message(response="utter_contact_invalid")
        return {"contact": contact}

    def validate_data_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value is True:
            return {"data_consent": True}
        dispatcher.utter_message(response="utter_consent_required")
        return {"data_consent": None}


class ActionSubmitCase(Action):
    def name(self) -> str:
        return "action_submit_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        services = get_services()
        values = {slot: tracker.get_slot(slot) for slot in FORM_SLOTS}
        if any(values[slot] in (None, "") for slot in FORM_SLOTS) or values["data_consent"] is not True:
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        channel = (tracker.get_latest_input_channel() or "desconocido")[:40]
        submitted_at = str(tracker.latest_message.get("timestamp") or _latest_user_timestamp(tracker))
        new_case = NewCase(
            procedure_id=str(values["procedure"]),
            full_name=str(values["full_name"]),
            document_number=str(values["document_number"]),
            contact=str(values["contact"]),
            channel=channel,
            sender_id=tracker.sender_id,
            idempotency_key=submission_key(tracker.sender_id, str(values["procedure"]), str(values["document_number"]), submitted_at),
        )
        try:
            code = services.cases.open_case(new_case)
        except Exception:  # noqa: BLE001 - tell the citizen, keep the form data for a retry
            logger.exception("case creation failed procedure=%s", new_case.procedure_id)
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        title = services.titles.get(new_case.procedure_id, new_case.procedure_id)
        dispatcher.utter_message(response="utter_case_created", case_code=code, procedure_title=title)
        logger.info("case opened procedure=%s channel=%s", new_case.procedure_id, channel)
        return [SlotSet("case_code", code)]


def _latest_user_timestamp(tracker: Tracker) -> float:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return float(event.get("timestamp") or 0)
    return 0.0


class ActionResetCaseForm(Action):
    """Forgets the citizen's personal data in the conversation once it is no longer needed."""

    def name(self) -> str:
        return "action_reset_case_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ValidateCheckStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_check_status_form"

    def validate_case_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        code = normalize_code(str(value or ""), get_services().settings.case_code_prefix)
        if code is None:
            dispatcher.utter_message(response="utter_case_code_invalid")
        return {"case_code": code}

    def validate_verification(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = "".join(ch for ch in str(value or "") if ch.isalnum()).upper()
        if len(text) < 4:
            dispatcher.utter_message(response="utter_ask_verification")
            return {"verification": None}
        return {"verification": text[-4:]}


class ActionCheckCaseStatus(Action):
    def name(self) -> str:
        return "action_check_case_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = time.time()
        locked_until = float(tracker.get_slot("status_locked_until") or 0)
        reset = [SlotSet("case_code", None), SlotSet("verification", None)]
        if locked_until > now:
            dispatcher.utter_message(response="utter_case_locked")
            return reset
        services = get_services()
        code = str(tracker.get_slot("case_code") or "")
        verification = str(tracker.get_slot("verification") or "")
        try:
            view = services.cases.status_for_citizen(code, verification)
        except Exception:  # noqa: BLE001
            logger.exception("status lookup failed")
            dispatcher.utter_message(response="utter_technical_problem")
            return reset
        if view is None:
            failures = int(tracker.get_slot("status_failures") or 0) + 1
            logger.info("status verification failed attempt=%d", failures)
            if failures >= MAX_FAILED_VERIFICATIONS:
                dispatcher.utter_message(response="utter_case_locked")
                return reset + [SlotSet("status_failures", 0.0), SlotSet("status_locked_until", now + LOCKOUT_SECONDS)]
            dispatcher.utter_message(response="utter_case_not_verified")
            return reset + [SlotSet("status_failures", float(failures))]
        dispatcher.utter_message(
            response="utter_case_status",
            case_code=view.code,
            procedure_title=services.titles.get(view.procedure_id, view.procedure_id),
            status_label=STATUS_LABELS.get(view.status, view.status),
            explanation=view.explanation,
        )
        return reset + [SlotSet("status_failures", 0.0)]
