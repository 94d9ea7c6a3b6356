"""Checking and reading WhatsApp Cloud API webhook bodies.

Meta signs every POST with ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of
the raw body keyed with the app secret. Only that form is accepted (no SHA-1, no
choice of algorithm by the caller) and the comparison takes constant time.

A body holds entries of changes; only changes of the ``messages`` field concern the
bot. They carry citizen messages (turned into :class:`Inbound` events) and delivery
statuses of what we sent (:class:`Status`). Everything else (account, template and
call updates, message echoes...) becomes :class:`Ignored`, so it is acknowledged with
a 200 and a log line rather than an error.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.common import messages
from connectors.common.typed import as_typed_text

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """True only when ``header`` is ``sha256=`` + the HMAC-SHA256 of ``raw_body``."""
    if not header or not app_secret or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    given = header[len(SIGNATURE_PREFIX) :].strip().lower()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def sign(raw_body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``raw_body`` (for tests and tools)."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Inbound:
    """A message from a citizen.

    Exactly one of ``text`` (typed text, to check against a numbered menu and then
    send to the bot), ``button`` (a reply-button or list-row id, i.e. our payload or a
    reference to it) and ``reply`` (a polite answer the channel gives itself) is set;
    when none is, the message is acknowledged and ignored.
    """

    sender: str
    message_id: str
    kind: str
    timestamp: int | None = None
    text: str | None = None
    button: str | None = None
    reply: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    """What happened to a message we sent: sent, delivered, read, played or failed."""

    message_id: str
    status: str
    timestamp: int | None = None
    errors: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Ignored:
    """Something that is acknowledged and logged but not acted on."""

    reason: str


Event = Inbound | Status | Ignored


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _errors(items: Any) -> tuple[tuple[int, str], ...]:
    found = []
    for error in items or []:
        if isinstance(error, Mapping):
            found.append((_int(error.get("code")) or 0, str(error.get("title") or error.get("message") or "")))
    return tuple(found)


def _location_text(location: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    latitude, longitude = location.get("latitude"), location.get("longitude")
    described = ", ".join(str(location[key]) for key in ("name", "address") if location.get(key))
    if not described and latitude is not None and longitude is not None:
        described = f"{float(latitude):.5f}, {float(longitude):.5f}"
    data = {key: location[key] for key in ("latitude", "longitude", "name", "address") if key in location}
    return f"{messages.LOCATION_PREFIX}: {described}", {"location": data}


_MEDIA = {"image", "video", "document", "sticker", "contacts", "order"}


def read_message(message: Mapping[str, Any]) -> Inbound | Ignored:
    """One element of ``value.messages`` as an event."""
    sender = str(message.get("from") or "")
    message_id = str(message.get("id") or "")
    kind = str(message.get("type") or "unknown")
    if not sender or not message_id:
        return Ignored(f"message without sender or id (type {kind})")
    base: dict[str, Any] = {
        "sender": sender,
        "message_id": message_id,
        "kind": kind,
        "timestamp": _int(message.get("timestamp")),
    }
    if kind == "text":
        body = str((message.get("text") or {}).get("body") or "")
        typed = as_typed_text(body)
        return Inbound(**base, text=typed) if typed else Ignored("empty text")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply_type = interactive.get("type")
        if reply_type in ("button_reply", "list_reply"):
            chosen = interactive.get(reply_type) or {}
            if chosen.get("id"):
                return Inbound(**base, button=str(chosen["id"]))
        if reply_type in ("nfm_reply", "call_permission_reply"):
            return Ignored(f"{reply_type} (this bot sends no flows or call permission requests)")
        return Inbound(**base, reply=messages.UNREADABLE)
    if kind == "button":  # quick-reply button of a template message
        button = message.get("button") or {}
        if button.get("payload"):
            return Inbound(**base, button=str(button["payload"]))
        typed = as_typed_text(str(button.get("text") or ""))
        return Inbound(**base, text=typed) if typed else Ignored("empty template button")
    if kind == "location":
        text, metadata = _location_text(message.get("location") or {})
        return Inbound(**base, text=text, metadata=metadata)
    if kind == "audio":
        return Inbound(**base, reply=messages.NO_AUDIO)
    if kind in _MEDIA:
        return Inbound(**base, reply=messages.ONLY_TEXT)
    if kind == "edit":
        return Inbound(**base, reply=messages.EDITED)
    if kind in ("reaction", "revoke", "system", "ephemeral", "request_welcome"):
        return Ignored(kind)
    return Inbound(**base, reply=messages.UNREADABLE)  # "unsupported" and types added later


def read_webhook(payload: Any, phone_number_id: str) -> list[Event]:
    """Every event of a webhook body addressed to our phone number, in order."""
    if not isinstance(payload, Mapping) or payload.get("object") != "whatsapp_business_account":
        return [Ignored("not a WhatsApp Business Account webhook")]
    events: list[Event] = []
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            field_name = str((change or {}).get("field") or "")
            value = (change or {}).get("value") or {}
            if field_name != "messages" or not isinstance(value, Mapping):
                events.append(Ignored(f"field {field_name or 'unknown'}"))
                continue
            addressed_to = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if addressed_to and addressed_to != phone_number_id:
                events.append(Ignored("addressed to another phone number"))
                continue
            for error in _errors(value.get("errors")):
                events.append(Ignored(f"webhook error {error[0]} {error[1]}"))
            for message in value.get("messages") or []:
                events.append(read_message(message) if isinstance(message, Mapping) else Ignored("malformed message"))
            for status in value.get("statuses") or []:
                if isinstance(status, Mapping) and status.get("id") and status.get("status"):
                    events.append(
                        Status(
                            message_id=str(status["id"]),
                            status=str(status["status"]),
                            timestamp=_int(status.get("timestamp")),
                            errors=_errors(status.get("errors")),
                        )
                    )
                else:
                    events.append(Ignored("malformed status"))
    return events or [Ignored("no events")]
