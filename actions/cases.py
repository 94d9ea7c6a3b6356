"""Opening a case (with a summary to confirm or correct), telling a verified citizen its
status, and listing a verified citizen's own cases ("mis trámites").

Personal data lives in the conversation only while the form needs it:
``action_reset_case_form`` forgets it once the case is created or the form is cancelled.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import textnorm
from actions.documents import UnknownProfile, document_hint
from actions.services import get_services
from actions.tracker_info import input_channel
from actions.validators import clean_contact, clean_document, clean_name
from backend.codes import normalize_code
from backend.repository import CaseStatusView, NewCase, VerificationLocked, submission_key
from backend.workflow import citizen_label

logger = logging.getLogger(__name__)

FORM_SLOTS = (
    "procedure",
    "full_name",
    "document_number",
    "contact",
    "data_consent",
    "case_confirmed",
    "correction_pending",
)
CORRECTABLE = ("procedure", "full_name", "document_number", "contact")
MAX_FAILED_VERIFICATIONS = 3
LOCKOUT_SECONDS = 15 * 60

# Words a citizen uses for each correctable field (accent-free, lower case).
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "full_name": ("nombre", "apellido"),
    "document_number": ("documento", "dni", "cedula", " rut", " run ", "curp", " nie ", " ci ", "carnet", "identidad"),
    "contact": ("correo", "mail", "email", "telefono", "celular", " cel ", "whatsapp", "contacto", "numero de tel"),
    "procedure": ("tramite", "solicitud", "pedido"),
}


def field_from_text(text: str) -> str | None:
    """Which form field a phrase names ('el mail' -> 'contact'), or None."""
    plain = f" {textnorm.plain(text)} "
    for field, words in FIELD_WORDS.items():
        if field in plain or any(word in plain for word in words):
            return field
    return None


def _entities(tracker: Tracker, name: str) -> list[str]:
    return [str(value) for value in tracker.get_latest_entity_values(name) if value]


def _single(value: Any) -> str:
    """Slots filled from several entities arrive as lists: take the first value."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def lockout_remaining(tracker: Tracker, now: float | None = None) -> float:
    """Seconds left of this conversation's lockout from status checks (0 when not locked)."""
    locked_until = float(tracker.get_slot("status_locked_until") or 0)
    return max(0.0, locked_until - (time.time() if now is None else now))


def failed_verification_events(tracker: Tracker, dispatcher: CollectingDispatcher, now: float) -> list[EventType]:
    """Counts one failed verification; the third one locks the conversation out for 15 minutes."""
    failures = int(tracker.get_slot("status_failures") or 0) + 1
    logger.info("verification failed attempt=%d", failures)
    if failures >= MAX_FAILED_VERIFICATIONS:
        dispatcher.utter_message(response="utter_case_locked")
        return [SlotSet("status_failures", 0.0), SlotSet("status_locked_until", now + LOCKOUT_SECONDS)]
    return [SlotSet("status_failures", float(failures))]


# --- opening a case ------------------------------------------------------------------------
class ValidateOpenCaseForm(FormValidationAction):
    def name(self) -> str:
        return "validate_open_case_form"

    def validate_procedure(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        services = get_services()
        candidates = [str(v).strip() for v in value] if isinstance(value, list) else [str(value or "").strip()]
        # Several extractors may tag the message: prefer a catalog id, else the longest text.
        text = next((c for c in candidates if c in services.titles), max(candidates, key=len, default=""))
        if text in services.titles:
            return {"procedure": text}
        result = services.search.searcher().search(text, top_k=1) if len(text) >= 3 else None
        if result and result.hits:
            return {"procedure": result.hits[0].procedure_id}
        dispatcher.utter_message(response="utter_procedure_unknown")
        return {"procedure": None}

    def validate_full_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = clean_name(_single(value))
        if name is None:
            dispatcher.utter_message(response="utter_name_invalid")
        return {"full_name": name}

    def validate_document_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        profile = get_services().settings.document_profile
        try:
            document = clean_document(_single(value), profile)
        except UnknownProfile:
            logger.error("VENTANILLA_DOCUMENT_PROFILE is not a known profile; falling back to generic")
            profile = "generic"
            document = clean_document(_single(value), profile)
        if document is None:
            dispatcher.utter_message(response="utter_document_invalid", hint=document_hint(profile))
        return {"document_number": document}

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        contact = clean_contact(_single(value))
        if contact is None:
            dispatcher.utter_message(response="utter_contact_invalid")
        return {"contact": contact}

    def validate_data_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"data_consent": True}
        dispatcher.utter_message(response="utter_consent_required")
        return {"data_consent": None}

    def validate_case_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """'yes' ends the form; a correction empties the named field so the form asks it again."""
        answer = _single(value)
        if answer == "yes":
            return {"case_confirmed": "yes", "correction_pending": None}
        if answer == "inform":
            # The citizen typed a new value straight away ("mi mail es otro: x@y.com").
            direct = self._direct_correction(tracker)
            if direct:
                return {**direct, "case_confirmed": None, "correction_pending": None}
        field = next((f for f in map(field_from_text, _entities(tracker, "field")) if f), None)
        if field is None and answer == "correct":
            text = str(tracker.latest_message.get("text") or "")
            field = None if text.startswith("/") else field_from_text(text)
        if field in CORRECTABLE:
            logger.info("case form correction field=%s", field)
            return {field: None, "case_confirmed": None, "correction_pending": None}
        return {"case_confirmed": None, "correction_pending": True}

    def _direct_correction(self, tracker: Tracker) -> dict[str, Any] | None:
        text = str(tracker.latest_message.get("text") or "")
        if _entities(tracker, "email") or _entities(tracker, "phone"):
            contact = clean_contact(text)
            if contact:
                return {"contact": contact}
        if _entities(tracker, "document_number"):
            document = clean_document(text, get_services().settings.document_profile)
            if document:
                return {"document_number": document}
        return None


class ActionAskCaseConfirmed(Action):
    """The summary of the form with Confirmar / Corregir / Cancelar, or which field to correct."""

    def name(self) -> str:
        return "action_ask_case_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("correction_pending"):
            dispatcher.utter_message(response="utter_ask_which_field")
            return []
        procedure = str(tracker.get_slot("procedure") or "")
        dispatcher.utter_message(
            response="utter_case_summary",
            procedure_title=get_services().titles.get(procedure, procedure),
            full_name=tracker.get_slot("full_name") or "",
            document_number=tracker.get_slot("document_number") or "",
            contact=tracker.get_slot("contact") or "",
        )
        return []


class ActionSubmitCase(Action):
    def name(self) -> str:
        return "action_submit_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        services = get_services()
        values = {slot: tracker.get_slot(slot) for slot in FORM_SLOTS}
        required = ("procedure", "full_name", "document_number", "contact")
        if (
            any(values[s] in (None, "") for s in required)
            or values["data_consent"] is not True
            or values["case_confirmed"] != "yes"
        ):
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        channel = input_channel(tracker)
        new_case = NewCase(
            procedure_id=str(values["procedure"]),
            full_name=str(values["full_name"]),
            document_number=str(values["document_number"]),
            contact=str(values["contact"]),
            channel=channel,
            sender_id=tracker.sender_id,
            idempotency_key=submission_key(
                tracker.sender_id,
                str(values["procedure"]),
                str(values["document_number"]),
                str(values["contact"]),
                # The same request from the same chat on the same day is one case: a retry after a
                # failure whose answer was lost (the write may have committed) finds it again.
                time.strftime("%Y-%m-%d", time.gmtime()),
            ),
        )
        try:
            code = services.cases.open_case(new_case)
        except Exception:  # tell the citizen; nothing was half written
            logger.exception("case creation failed procedure=%s", new_case.procedure_id)
            dispatcher.utter_message(response="utter_case_not_created")
            return []
        title = services.titles.get(new_case.procedure_id, new_case.procedure_id)
        dispatcher.utter_message(response="utter_case_created", case_code=code, procedure_title=title)
        logger.info("case opened procedure=%s channel=%s", new_case.procedure_id, channel)
        return [SlotSet("case_code", code)]


class ActionResetCaseForm(Action):
    """Forgets the citizen's personal data in the conversation once it is no longer needed."""

    def name(self) -> str:
        return "action_reset_case_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return [SlotSet(slot, None) for slot in FORM_SLOTS]


# --- status of one case ----------------------------------------------------------------------
class ValidateCheckStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_check_status_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        # A locked-out conversation is not even asked for the code: the form ends at once
        # and action_check_case_status says it is locked.
        return [] if lockout_remaining(tracker) > 0 else domain_slots

    def validate_case_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = normalize_code(_single(value), get_services().settings.case_code_prefix)
        if code is None:
            dispatcher.utter_message(response="utter_case_code_invalid")
        return {"case_code": code}

    def validate_verification(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = "".join(ch for ch in _single(value) if ch.isalnum()).upper()
        if len(text) < 4:
            dispatcher.utter_message(response="utter_verification_invalid")
            return {"verification": None}
        return {"verification": text[-4:]}


def _expected(view: CaseStatusView) -> str:
    if view.expected_date is None:
        return ""
    return f"Fecha estimada: {view.expected_date:%d/%m/%Y}."


class ActionCheckCaseStatus(Action):
    def name(self) -> str:
        return "action_check_case_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = time.time()
        reset = [SlotSet("case_code", None), SlotSet("verification", None)]
        if lockout_remaining(tracker, now) > 0:
            dispatcher.utter_message(response="utter_case_locked")
            return reset
        services = get_services()
        code = str(tracker.get_slot("case_code") or "")
        verification = str(tracker.get_slot("verification") or "")
        try:
            view = services.cases.status_for_citizen(code, verification, sender_id=tracker.sender_id)
        except VerificationLocked as locked:
            logger.info("status check refused: locked out for %.0f s", locked.retry_after)
            dispatcher.utter_message(response="utter_case_locked")
            return reset
        except Exception:
            logger.exception("status lookup failed")
            dispatcher.utter_message(response="utter_technical_problem")
            return reset
        if view is None:
            events = failed_verification_events(tracker, dispatcher, now)
            if not any(e.get("name") == "status_locked_until" for e in events):
                dispatcher.utter_message(response="utter_case_not_verified")
            return reset + events
        dispatcher.utter_message(
            response="utter_case_status",
            case_code=view.code,
            procedure_title=services.titles.get(view.procedure_id, view.procedure_id),
            status_label=view.label or citizen_label(view.status),
            explanation=view.explanation,
            expected=_expected(view),
        )
        return [*reset, SlotSet("status_failures", 0.0)]


# --- "mis trámites" ---------------------------------------------------------------------------
class ValidateListCasesForm(FormValidationAction):
    def name(self) -> str:
        return "validate_list_cases_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return [] if lockout_remaining(tracker) > 0 else domain_slots

    def validate_list_verification(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = "".join(ch for ch in _single(value) if ch.isalnum()).upper()
        if len(text) < 4:
            dispatcher.utter_message(response="utter_verification_invalid")
            return {"list_verification": None}
        return {"list_verification": text}


class ActionListMyCases(Action):
    """Lists the cases opened from this chat whose document matches, after verification."""

    def name(self) -> str:
        return "action_list_my_cases"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = time.time()
        reset = [SlotSet("list_verification", None)]
        if lockout_remaining(tracker, now) > 0:
            dispatcher.utter_message(response="utter_case_locked")
            return reset
        services = get_services()
        verification = str(tracker.get_slot("list_verification") or "")
        try:
            cases = services.cases.cases_for_citizen(tracker.sender_id, verification)
        except VerificationLocked as locked:
            logger.info("case listing refused: locked out for %.0f s", locked.retry_after)
            dispatcher.utter_message(response="utter_case_locked")
            return reset
        except Exception:
            logger.exception("case listing failed")
            dispatcher.utter_message(response="utter_technical_problem")
            return reset
        if not cases:
            events = failed_verification_events(tracker, dispatcher, now)
            if not any(e.get("name") == "status_locked_until" for e in events):
                dispatcher.utter_message(response="utter_my_cases_none")
            return reset + events
        lines = [
            f"• {view.code} — {services.titles.get(view.procedure_id, view.procedure_id)}: "
            f"{view.label or citizen_label(view.status)}"
            for view in cases[:10]
        ]
        dispatcher.utter_message(response="utter_my_cases", cases="\n".join(lines), count=len(cases))
        logger.info("cases listed count=%d", len(cases))
        return [*reset, SlotSet("status_failures", 0.0)]
