"""No personal data in any log line, at any level, in every process.

Our own log lines never carry message text or personal data, but the libraries we
run do, at DEBUG and on errors: Rasa logs each message and the slot values,
SQLAlchemy puts the parameters of a failed INSERT (name, contact) in its exception
text, HTTP clients log URLs with chat ids or phone numbers. :func:`install` wraps the
logging record factory of the process so every record, whoever creates it, is
rewritten before any handler sees it:

* e-mail addresses, phone numbers and document numbers (runs of 6 or more digits,
  possibly with separators and a letter, as in ``30.123.456``, ``X1234567L``) become
  ``[correo]``, ``[número]``;
* text a citizen sent recently (the channels and the action server call
  :func:`remember` with it; names are free text no pattern can find) becomes
  ``[texto del ciudadano]`` wherever it appears.

The rewritten message replaces ``msg`` and the ``args`` are dropped; a traceback is
formatted and redacted at once (``exc_text``). Plain Python, imported by the Rasa
server (through the channels), the action server and the backend.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Six or more digits, possibly separated by spaces, dots or dashes, optionally with a
# leading "+" and one letter at either end (NIE, RUT check digit K).
NUMBER = re.compile(r"(?<![\w-])\+?[A-Za-z]?\d(?:[\s.\-]?\d){5,}(?:[\s.\-]?[A-Za-z0-9])?(?![\w])")
MIN_REMEMBERED = 4
# Slots that hold what a citizen told us about themselves (bot/domain/cases.yml).
PERSONAL_SLOTS = frozenset({"full_name", "document_number", "contact", "verification", "list_verification"})
_MAX_REMEMBERED = 4000

_lock = threading.Lock()
_remembered: OrderedDict[str, None] = OrderedDict()
_installed = False


def remember(*texts: Any) -> None:
    """Marks citizen text (messages, slot values) to be hidden from every log line."""
    with _lock:
        for text in texts:
            if isinstance(text, str) and len(text.strip()) >= MIN_REMEMBERED:
                value = text.strip()
                for form in _written_forms(value):
                    _remembered.pop(form, None)
                    _remembered[form] = None
        while len(_remembered) > _MAX_REMEMBERED:
            _remembered.popitem(last=False)


def _written_forms(value: str) -> tuple[str, ...]:
    """``value`` as written, as JSON writes it (non-ASCII escaped: Rasa logs events as JSON),
    and JSON-escaped twice: Rasa's DEBUG line for an action's events is JSON holding the
    ``repr`` of a ``BotUttered`` whose data (the response's variables, such as the name in
    the case summary) is JSON already, so "Rosalía" appears as ``Rosal\\\\u00eda`` (two backslashes)."""
    once = json.dumps(value)[1:-1]
    return (value, once, json.dumps(once)[1:-1])


def remember_slots(slots: Any) -> None:
    """The personal slots of a tracker's ``slots`` mapping (see :func:`remember`)."""
    if isinstance(slots, dict):
        remember(*(value for name, value in slots.items() if name in PERSONAL_SLOTS))


def redact(text: str) -> str:
    """``text`` without remembered citizen text, e-mail addresses and long numbers."""
    with _lock:
        remembered = sorted(_remembered, key=len, reverse=True)
    for value in remembered:
        if value in text:
            text = text.replace(value, "[texto del ciudadano]")
    text = EMAIL.sub("[correo]", text)
    return NUMBER.sub("[número]", text)


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not break logging
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        return record

    return factory


def install() -> None:
    """Wraps this process's log record factory once (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
        _installed = True
