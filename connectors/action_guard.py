"""A guard between Rasa and the action server: an apology instead of silence.

Rasa 3.6 waits up to 5 minutes for a custom action and, when the action server is
down, hung or answers an error, logs "Bot will continue, but the actions events are
lost" and tells the citizen nothing. Rasa's timeout is a constant we cannot change,
so ``bot/endpoints.yml`` points Rasa's ``action_endpoint`` at this route, served by
the Rasa server itself (mounted like a channel at ``/internal/actions``, never under
``/webhooks``, and only with Rasa's API token), which forwards each call to the real
action server (``VENTANILLA_ACTION_SERVER_URL``) with a deadline
(``VENTANILLA_ACTION_TIMEOUT_SECONDS``, default 3, so that with Rasa's own work the
citizen hears back within 5 s). When the action server cannot be
reached, does not answer in time or fails (5xx), the guard answers Rasa with a valid
action result that carries only "listen next" and a short apology with a way forward, at most
once per citizen message, and asks Rasa to listen next, so the turn ends there: one
deadline per citizen message at most, and no fallback message after the apology.
Nothing is remembered between calls: the next message is forwarded as usual, so the
conversation goes on as soon as the action server answers again.

Rejections (400) and other client errors are passed through: Rasa's forms rely on
them.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import action_results
from connectors.common import redaction
from connectors.common.messages import ACTIONS_UNAVAILABLE as APOLOGY

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 3.0


class ApologyMemory:
    """Which citizen messages were already apologised for (bounded, in process)."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size = size

    def first(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = time.monotonic()
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


def apology_result(call: dict[str, Any], memory: ApologyMemory) -> dict[str, Any]:
    """A valid action server answer: no events, and the apology once per citizen message."""
    raw_tracker = call.get("tracker")
    tracker: dict[str, Any] = raw_tracker if isinstance(raw_tracker, dict) else {}
    raw_latest = tracker.get("latest_message")
    latest: dict[str, Any] = raw_latest if isinstance(raw_latest, dict) else {}
    turn = latest.get("message_id") or hash(str(latest.get("text")))
    say = memory.first(f"{call.get('sender_id')}|{turn}")
    # Listen next: without it the policies, seeing an action that did nothing, add a
    # confusing "no estoy seguro de haber entendido" after the apology.
    return {"events": [{"event": "followup", "name": "action_listen"}], "responses": [{"text": APOLOGY}] if say else []}


def _remember_slots(tracker: Any) -> None:
    """Slot values (names, documents, contacts) are hidden from this process's log lines."""
    if isinstance(tracker, dict):
        redaction.remember_slots(tracker.get("slots"))


def _remember_slot_events(body: bytes) -> None:
    """Values the action server sets (a cleaned name or document) are hidden too."""
    try:
        result = json.loads(body or b"null")
    except ValueError:
        return
    events = result.get("events") if isinstance(result, dict) else None
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict) and event.get("event") == "slot":
            redaction.remember_slots({event.get("name"): event.get("value")})


class ActionGuardInput(InputChannel):
    """Mounted from bot/credentials.yml; forwards Rasa's action calls with a deadline."""

    @classmethod
    def name(cls) -> str:
        return "action_guard"

    def url_prefix(self) -> str:
        return "/internal/actions"

    def __init__(self, target: str | None = None, timeout: float | None = None, token: str | None = None) -> None:
        self.target = target or os.environ.get("VENTANILLA_ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
        self.timeout = timeout or float(os.environ.get("VENTANILLA_ACTION_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
        self.token = token if token is not None else os.environ.get("VENTANILLA_RASA_TOKEN", "")
        self.memory = ApologyMemory()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    def _authorized(self, request: Request) -> bool:
        given = request.args.get("token") or ""
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    async def forward(self, body: bytes) -> tuple[int, bytes]:
        """The action server's status and body; raises on connection errors and timeouts."""
        async with self._session_for_loop().post(
            self.target,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        ) as answer:
            return answer.status, await answer.read()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa checks each answer that comes back through here: with one prebuilt validator.
        action_results.install()
        bp = Blueprint("ventanilla_action_guard", __name__)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self._authorized(request):
                return response.json({"error": "forbidden"}, status=403)
            call = request.json if isinstance(request.json, dict) else {}
            action = str(call.get("next_action") or "")
            _remember_slots(call.get("tracker"))
            try:
                status, body = await self.forward(request.body or b"")
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.error("action server unreachable or too slow for %s (%s)", action, type(error).__name__)
                return response.json(apology_result(call, self.memory))
            if status >= 500:
                logger.error("action %s failed on the action server (HTTP %d)", action, status)
                return response.json(apology_result(call, self.memory))
            _remember_slot_events(body)
            return response.raw(body, status=status, content_type="application/json")

        return bp
