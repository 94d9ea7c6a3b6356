"""Masking a citizen's question before it is stored as "unanswered".

Stricter than ``backend.redaction.redact`` (which keeps case codes because agents need
them): editors improving content never need a case code, so codes become
"[expediente]" too. Values the citizen typed into the case form (names, document,
contact) are passed as ``secrets`` and removed wherever they appear, so a name
repeated outside the form does not reach the table either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import textnorm
from backend.codes import DEFAULT_PREFIX, code_in_text_re
from backend.redaction import redact

MAX_QUESTION = 500


def mask_question(
    text: str, *, case_code_prefix: str = DEFAULT_PREFIX, secrets: Iterable[str] = (), limit: int = MAX_QUESTION
) -> str:
    """The question without e-mails, phones, document numbers, case codes and the given secrets."""
    value = textnorm.nfc(text)
    for secret in sorted({s.strip() for s in secrets if s and len(s.strip()) >= 3}, key=len, reverse=True):
        value = re.sub(re.escape(textnorm.nfc(secret)), "[dato personal]", value, flags=re.IGNORECASE)
    value = code_in_text_re(case_code_prefix).sub("[expediente]", value)
    return redact(value, limit, case_code_prefix=case_code_prefix)
