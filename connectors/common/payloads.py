"""Button payloads that do not fit a platform's field, kept behind short references.

Telegram's ``callback_data`` holds at most 64 bytes and WhatsApp's button and row ids
256 and 200 characters; a Rasa payload such as
``/ask_procedure{"procedure": "licencia-conducir-renovacion", "kb_section": "requirements"}``
does not fit in 64 bytes. Such payloads are stored under a content hash and the button
carries ``ref:<hash>``; a press is resolved back to the payload. The reference is
deterministic, so the same button always gets the same reference.
"""

from __future__ import annotations

import base64
import hashlib

from connectors.common.store import ChannelStore

REF_PREFIX = "ref:"
# Buttons keep working for a month; older ones get a polite "option expired" reply.
REF_TTL_SECONDS = 30 * 24 * 3600


def _digest(payload: str) -> str:
    raw = hashlib.sha256(payload.encode("utf-8")).digest()[:16]
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class PayloadRefs:
    """Encodes payloads into platform ids of bounded size and decodes them back."""

    def __init__(self, store: ChannelStore, ttl: float = REF_TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl

    async def encode(self, payload: str, max_bytes: int) -> str:
        """``payload`` itself when it fits in ``max_bytes`` (UTF-8), else a reference."""
        if len(payload.encode("utf-8")) <= max_bytes and not payload.startswith(REF_PREFIX):
            return payload
        ref = REF_PREFIX + _digest(payload)
        await self._store.put(f"ref:{ref[len(REF_PREFIX) :]}", payload, self._ttl)
        return ref

    async def decode(self, token: str) -> str | None:
        """The payload behind ``token`` (itself if it is not a reference); None if expired."""
        if not token.startswith(REF_PREFIX):
            return token
        return await self._store.get(f"ref:{token[len(REF_PREFIX) :]}")
