"""Which ``/intent{...}`` messages a citizen may send: the ones our buttons send.

Rasa reads a message that starts with ``/`` as an intent with entities, skipping the
NLU, and ``/inform{"document_number": ...}`` would fill slots exactly as written.
Buttons rely on it, so on the web channels (REST, socket.io), where a button press
and typed text arrive the same way, the channel lets through only the payloads our
buttons can produce: an intent a citizen may choose, with only the entities those
buttons carry (a procedure, a section, a field to correct, a rating). Everything
else starting with ``/`` (internal intents such as ``case_status_changed``, which
only the backend triggers through Rasa's authenticated HTTP API; entities that fill
verification or personal-data slots; confidence overrides ``/intent@0.99``) is read
as plain text by the NLU. Telegram and WhatsApp strip the slash of typed text
altogether and check button payloads the same way, since a modified client can
send any button data.

``tests/reliability/test_intent_shortcut.py`` checks that every button payload in the
domain passes and that the dangerous ones do not.
"""

from __future__ import annotations

import json
import re

from connectors.common.typed import as_typed_text

# intent -> entities its buttons may carry. Values are checked by the forms' validators.
CITIZEN_INTENTS: dict[str, frozenset[str]] = {
    "greet": frozenset(),
    "goodbye": frozenset(),
    "affirm": frozenset(),
    "deny": frozenset(),
    "thank": frozenset(),
    "help": frozenset(),
    "cancel": frozenset(),
    "ask_procedure": frozenset({"procedure", "kb_section"}),
    "open_case": frozenset({"procedure"}),
    "inform": frozenset({"procedure"}),
    "check_case_status": frozenset(),
    "list_my_cases": frozenset(),
    "correct_field": frozenset({"field"}),
    "human_handoff": frozenset(),
    "feedback": frozenset({"rating"}),
}
_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_]{1,40})(?P<entities>\{.*\})?$", re.DOTALL)
MAX_ENTITY_CHARS = 80


def allowed_payload(text: str) -> bool:
    """True when ``text`` is an intent payload a citizen's button could have sent."""
    match = _PAYLOAD.match(text.strip())
    if not match or match.group("intent") not in CITIZEN_INTENTS:
        return False
    if not match.group("entities"):
        return True
    try:
        entities = json.loads(match.group("entities"))
    except ValueError:
        return False
    if not isinstance(entities, dict):
        return False
    allowed = CITIZEN_INTENTS[match.group("intent")]
    return all(
        key in allowed and isinstance(value, str) and 0 < len(value) <= MAX_ENTITY_CHARS
        for key, value in entities.items()
    )


def citizen_text(text: str) -> str:
    """What reaches Rasa for a message that may be a button press or typed text."""
    if text.lstrip().startswith("/") and not allowed_payload(text):
        return as_typed_text(text)
    return text
