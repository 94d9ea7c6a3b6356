"""The REST channel (``/webhooks/rest/webhook``), hardened for a public endpoint.

Rasa 3.6's own ``rest`` channel reads ``request.json.get(...)`` without checking the
body, so ``null``, ``[]``, an empty body or a non-JSON one end in a 500; it logs the
citizen's text when processing fails; it has no limit on size or rate; and it lets
any ``/intent{...}`` through. This one keeps its wire format (``{"sender",
"message", "metadata"}`` in, a JSON list of bot messages out) and its name
(``rest``, so trackers, notifications and tests see the same channel) and adds:

* 400 with a Spanish explanation for anything that is not a JSON object with a text
  ``message`` (and a short printable ``sender``);
* 413 beyond ``MAX_MESSAGE_CHARS`` characters of text or ``MAX_BODY_BYTES`` of body;
* per-sender and global rate limits (429 with the polite reply and ``Retry-After``);
* intent payloads only as our buttons send them (``connectors.common.intents``);
* no message text in any log line.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.common import messages, redaction
from connectors.common.intents import citizen_text
from connectors.common.ratelimit import RateLimiter, shared_limiter
from connectors.common.store import shared_store

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64_000
MAX_MESSAGE_CHARS = 2000
SENDER_RE = re.compile(r"^[A-Za-z0-9_.:@+-]{1,128}$")


class RestInput(InputChannel):
    """``rest`` with input checks, rate limits and the intent guard."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self._limiter = limiter

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = shared_limiter(shared_store())
        return self._limiter

    @staticmethod
    def _refuse(status: int, text: str = messages.INVALID_REQUEST) -> HTTPResponse:
        return response.json([{"recipient_id": "", "text": text}], status=status)

    @staticmethod
    def _read(request: Request) -> dict[str, Any] | str:
        """The body as a dict, or the reason it cannot be read."""
        raw = request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            return "too large"
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return "not json"
        if not isinstance(body, dict):
            return "not an object"
        return body

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        redaction.install()
        bp = Blueprint("ventanilla_rest", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = self._read(request)
            if isinstance(body, str):
                logger.info("rest: request refused (%s)", body)
                return self._refuse(413 if body == "too large" else 400)
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not isinstance(sender, str) or not SENDER_RE.match(sender) or not isinstance(text, str):
                logger.info("rest: request refused (sender or message missing or malformed)")
                return self._refuse(400)
            if len(text) > MAX_MESSAGE_CHARS:
                return self._refuse(413, f"El mensaje es demasiado largo (más de {MAX_MESSAGE_CHARS} caracteres).")
            redaction.remember(text)
            verdict = await self.limiter.check(self.name(), sender)
            if not verdict.allowed:
                logger.info("rest: message throttled (first=%s)", verdict.first)
                refusal = response.json([{"recipient_id": sender, "text": verdict.text}], status=429)
                refusal.headers["Retry-After"] = str(int(self.limiter.sender.seconds))
                return refusal
            collector = CollectingOutputChannel()
            message = UserMessage(
                citizen_text(text),
                collector,
                sender,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else None,
            )
            try:
                await on_new_message(message)
            except Exception:
                logger.exception("rest: error while processing a message")
            return response.json(collector.messages)

        return bp
