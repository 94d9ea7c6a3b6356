"""Rasa's socket.io channel, fixed for the web widget and for ``rasa-webchat``.

Rasa 3.6's own ``socketio`` channel has three faults that hit the browser directly:

* ``AsyncServer.enter_room`` became a coroutine in python-socketio 5.10 and Rasa
  never awaits it, so with ``session_persistence`` the browser never joins its room
  and gets no replies (see STACK.md). We await it when it is awaitable, so the
  channel works with 5.9 (pinned) and with later releases.
* ``send_custom_json`` calls ``sio.emit(event, **json_message)``: any custom payload
  whose keys are not ``emit``'s own arguments (our ``kb_answer`` source chip has
  ``type``, ``title``...) raises ``TypeError``, and every bot message after it in the
  turn (the buttons) is lost. Here custom payloads travel as ``{"custom": {...}}``,
  the same shape the REST channel uses. ``rasa-webchat`` ignores them and shows the
  plain-text source line that comes with every answer.
* ``user_uttered`` trusts the ``session_id`` in each message, so any socket that
  knows a session id could post as that citizen. Here a socket speaks only for the
  session it asked for with ``session_request``; messages naming another session,
  or sent before the session was set, are dropped.

Text and button messages keep Rasa's wire format (``text``, ``quick_replies``), which
``rasa-webchat`` expects. Configure it in ``bot/credentials.yml`` in place of
``socketio:`` as ``connectors.socketio.SocketIOInput:`` with the same keys.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput as RasaSocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from connectors.common import redaction
from connectors.common.intents import citizen_text
from connectors.common.ratelimit import RateLimiter, shared_limiter
from connectors.common.store import shared_store

logger = logging.getLogger(__name__)

# Session ids are room names and tracker keys: short, printable, no separators.
# Rasa and both widgets use uuid4().hex (32 hex digits).
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Longer messages are refused: nobody types this much into a chat box, and the NLU
# pipeline should not be fed megabytes by a script.
MAX_MESSAGE_CHARS = 2000


def valid_session_id(value: Any) -> str | None:
    """The session id if it is well formed, else None (the server then makes one)."""
    if isinstance(value, str) and SESSION_ID_RE.match(value):
        return value
    return None


class SocketIOOutput(RasaSocketIOOutput):
    """Rasa's output channel with custom payloads sent as ``{"custom": ...}``."""

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io input channel with the three fixes above.

    It also applies the rate limits and the intent guard of the other channels
    (``connectors.common.ratelimit``, ``connectors.common.intents``).
    """

    _limiter: RateLimiter | None = None

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = shared_limiter(shared_store())
        return self._limiter

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return SocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # cors_allowed_origins=[] disables python-socketio's own origin check; Rasa's
        # --cors setting governs the HTTP side, as in Rasa's channel.
        redaction.install()
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        bp: Blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = valid_session_id(requested) or uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):  # python-socketio >= 5.10
                    await entered
                await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("socket.io session confirmed (restored=%s)", session_id == requested)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            text = data.get("message", "")
            if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
                logger.info("socket.io message refused: not text or longer than %d characters", MAX_MESSAGE_CHARS)
                return
            if self.session_persistence:
                bound = (await sio.get_session(sid, namespace=self.namespace)).get("session_id")
                if bound is None or data.get("session_id") not in (None, bound):
                    logger.info("socket.io message dropped: socket has no session or names another one")
                    return
                sender_id = bound
            else:
                sender_id = sid
            redaction.remember(text)
            verdict = await self.limiter.check(self.name(), sender_id)
            if not verdict.allowed:
                logger.info("socket.io message throttled (first=%s)", verdict.first)
                if verdict.first:
                    await SocketIOOutput(sio, self.bot_message_evt).send_text_message(sender_id, verdict.text)
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            message = UserMessage(
                citizen_text(text),
                SocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            await on_new_message(message)

        return bp
