"""The WhatsApp Cloud API as a Rasa input and output channel.

Mounted at ``/webhooks/whatsapp/webhook`` when the ``VENTANILLA_WHATSAPP_*`` settings
are present (see launcher/credentials.py). The GET handshake echoes ``hub.challenge``
when ``hub.verify_token`` matches; every POST must carry a valid
``X-Hub-Signature-256`` or it is refused with 403 before anything is read.

A POST is always answered 200 once its signature checks out, whatever happens while
processing it: a 5xx would only make Meta deliver the same body again for days.
Each message id is processed once (the store remembers it for a week, as long as
Meta keeps retrying). Nothing is sent to Meta at start-up.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.common import messages, redaction
from connectors.common.buttons import Choice, menu_choice
from connectors.common.intents import citizen_text
from connectors.common.payloads import PayloadRefs
from connectors.common.privacy import pseudonym
from connectors.common.ratelimit import RateLimiter, shared_limiter
from connectors.common.store import ChannelStore, shared_store
from connectors.whatsapp.graph import REENGAGEMENT_REQUIRED, GraphClient, GraphError, classify
from connectors.whatsapp.render import render, template_body, template_parameters
from connectors.whatsapp.settings import WhatsAppSettings
from connectors.whatsapp.webhook import SIGNATURE_HEADER, Inbound, Status, read_webhook, verify_signature

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
DEDUP_TTL = 7 * 24 * 3600  # Meta retries undelivered webhooks for up to 7 days
WINDOW_SECONDS = 24 * 3600
WINDOW_MARGIN = 5 * 60  # treat the window as closed a little early: clocks and queues drift
MENU_TTL = 24 * 3600
STATUS_TTL = 7 * 24 * 3600


class WhatsAppState:
    """The channel's keys in the shared store, all keyed by pseudonyms of ids."""

    def __init__(self, store: ChannelStore, key: str) -> None:
        self.store = store
        self._key = key

    def _id(self, value: str) -> str:
        return pseudonym(value, self._key)

    async def first_delivery(self, message_id: str) -> bool:
        return await self.store.claim(f"wa:msg:{self._id(message_id)}", DEDUP_TTL)

    async def citizen_wrote(self, wa_id: str, timestamp: int | None) -> None:
        """Opens (or extends) the 24-hour window from the message's own timestamp."""
        now = time.time()
        sent_at = float(timestamp) if timestamp and timestamp <= now else now
        remaining = WINDOW_SECONDS - WINDOW_MARGIN - (now - sent_at)
        if remaining > 0:
            await self.store.put(f"wa:window:{self._id(wa_id)}", str(int(sent_at)), remaining)

    async def window_open(self, wa_id: str) -> bool:
        return await self.store.get(f"wa:window:{self._id(wa_id)}") is not None

    async def remember_menu(self, wa_id: str, choices: list[Choice]) -> None:
        data = json.dumps([[c.title, c.payload] for c in choices], ensure_ascii=False)
        await self.store.put(f"wa:menu:{self._id(wa_id)}", data, MENU_TTL)

    async def take_menu(self, wa_id: str) -> list[Choice] | None:
        """The pending numbered menu; it is valid for the citizen's next message only."""
        data = await self.store.pop(f"wa:menu:{self._id(wa_id)}")
        return [Choice(title, payload) for title, payload in json.loads(data)] if data else None

    async def record_status(self, status: Status) -> None:
        record = {"status": status.status, "timestamp": status.timestamp, "errors": [list(e) for e in status.errors]}
        await self.store.put(f"wa:status:{self._id(status.message_id)}", json.dumps(record), STATUS_TTL)

    async def delivery_status(self, message_id: str) -> dict[str, Any] | None:
        data = await self.store.get(f"wa:status:{self._id(message_id)}")
        return json.loads(data) if data else None


class WhatsAppOutput(OutputChannel):
    """Sends bot messages as text, reply buttons, lists, numbered menus or templates."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, settings: WhatsAppSettings, graph: GraphClient, state: WhatsAppState, refs: PayloadRefs) -> None:
        self.settings = settings
        self.graph = graph
        self.state = state
        self.refs = refs

    def _tag(self, wa_id: str) -> str:
        return pseudonym(wa_id, self.settings.app_secret)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if not await self.state.window_open(recipient_id) and self.settings.template_name:
            await self._send_template(recipient_id, message)
            return
        rendered = await render(message, self.refs.encode)
        for body in rendered.bodies:
            try:
                await self.graph.send(recipient_id, body)
            except GraphError as error:
                if error.code == REENGAGEMENT_REQUIRED and self.settings.template_name:
                    await self._send_template(recipient_id, message)
                    return
                if classify_permanent(error):
                    logger.error("whatsapp: message to %s refused: %s", self._tag(recipient_id), error)
                    continue
                raise
        if rendered.menu:
            await self.state.remember_menu(recipient_id, rendered.menu)

    async def _send_template(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Outside the 24-hour window: the configured template, with the text as parameter."""
        parameters = template_parameters(message)
        if not parameters:
            logger.info(
                "whatsapp: message without text outside the 24-hour window not sent (%s)", self._tag(recipient_id)
            )
            return
        if self.settings.template_name is None:  # the caller sends templates only when one is configured
            raise RuntimeError("no WhatsApp template configured")
        body = template_body(self.settings.template_name, self.settings.template_language, parameters)
        await self.graph.send(recipient_id, body)
        logger.info(
            "whatsapp: template %s sent to %s (outside the 24-hour window)",
            self.settings.template_name,
            self._tag(recipient_id),
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


def classify_permanent(error: GraphError) -> bool:
    """A refusal that retrying the same message later cannot fix (bad request, policy)."""
    return 400 <= error.status < 500 and classify(error) is None


class WhatsAppInput(InputChannel):
    """Receives the Cloud API webhook (GET handshake and signed POSTs)."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = WhatsAppSettings.from_env()
        if settings is None:
            raise RasaException(
                "El canal de WhatsApp necesita VENTANILLA_WHATSAPP_ACCESS_TOKEN, _APP_SECRET, "
                "_VERIFY_TOKEN y _PHONE_NUMBER_ID en el entorno (vea .env.example)."
            )
        return cls(settings)

    def __init__(self, settings: WhatsAppSettings, store: ChannelStore | None = None) -> None:
        self.settings = settings
        self._store = store
        self._output: WhatsAppOutput | None = None
        self._limiter: RateLimiter | None = None

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = shared_limiter(self._store or shared_store())
        return self._limiter

    def get_output_channel(self) -> WhatsAppOutput:
        if self._output is None:
            store = self._store or shared_store()
            state = WhatsAppState(store, self.settings.app_secret)
            self._output = WhatsAppOutput(self.settings, GraphClient(self.settings), state, PayloadRefs(store))
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("ventanilla_whatsapp", __name__)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry URLs

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self._handshake(request)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            raw = request.body or b""
            if len(raw) > MAX_BODY_BYTES:
                return response.json({"status": "too large"}, status=413)
            if not verify_signature(raw, request.headers.get(SIGNATURE_HEADER), self.settings.app_secret):
                logger.warning("whatsapp: webhook POST with a missing or invalid signature refused")
                return response.json({"status": "forbidden"}, status=403)
            try:
                payload = json.loads(raw)
            except ValueError:
                return response.json({"status": "invalid json"}, status=400)
            counts = await self._process(payload, on_new_message)
            return response.json({"status": "ok", **counts})

        return bp

    def _handshake(self, request: Request) -> HTTPResponse:
        mode = request.args.get("hub.mode")
        token = request.args.get("hub.verify_token") or ""
        challenge = request.args.get("hub.challenge") or ""
        if mode == "subscribe" and hmac.compare_digest(token.encode(), self.settings.verify_token.encode()):
            return response.text(challenge)
        logger.warning("whatsapp: verification handshake with a wrong token refused")
        return response.text("forbidden", status=403)

    async def _process(self, payload: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> dict[str, int]:
        counts = {"messages": 0, "statuses": 0, "duplicates": 0, "ignored": 0, "errors": 0}
        output = self.get_output_channel()
        for event in read_webhook(payload, self.settings.phone_number_id):
            try:
                if isinstance(event, Inbound):
                    if not await output.state.first_delivery(event.message_id):
                        counts["duplicates"] += 1
                        logger.info("whatsapp: duplicate delivery of a %s message ignored", event.kind)
                        continue
                    await self._inbound(event, output, on_new_message)
                    counts["messages"] += 1
                elif isinstance(event, Status):
                    await self._status(event, output)
                    counts["statuses"] += 1
                else:
                    counts["ignored"] += 1
                    logger.info("whatsapp: webhook event ignored: %s", event.reason)
            except Exception:  # never a 5xx: Meta would redeliver for days
                counts["errors"] += 1
                logger.exception("whatsapp: error while handling a webhook event")
        return counts

    async def _inbound(
        self, event: Inbound, output: WhatsAppOutput, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        await output.state.citizen_wrote(event.sender, event.timestamp)
        verdict = await self.limiter.check(self.name(), event.sender)
        if not verdict.allowed:
            logger.info("whatsapp: message throttled (%s)", pseudonym(event.sender, self.settings.app_secret))
            if verdict.first:
                await output.send_response(event.sender, {"text": verdict.text})
            return
        menu = await output.state.take_menu(event.sender)
        text: str | None = None
        if event.button is not None:
            text = await output.refs.decode(event.button)
            if text is None:
                await output.send_response(event.sender, {"text": messages.EXPIRED_OPTION})
                return
            text = citizen_text(text)  # button ids can be forged: only our payloads are intents
        elif event.text is not None:
            text = event.text
            if menu:
                index = menu_choice(text, [choice.title for choice in menu])
                if index is not None:
                    text = menu[index].payload
        elif event.reply is not None:
            logger.info("whatsapp: %s message answered by the channel", event.kind)
            await output.send_response(event.sender, {"text": event.reply})
            return
        if not text:
            return
        redaction.remember(text)
        await on_new_message(
            UserMessage(
                text,
                output,
                event.sender,
                input_channel=self.name(),
                message_id=event.message_id,
                metadata=event.metadata or None,
            )
        )

    async def _status(self, event: Status, output: WhatsAppOutput) -> None:
        await output.state.record_status(event)
        tag = pseudonym(event.message_id, self.settings.app_secret)
        if event.status == "failed":
            # "graph-error-<code>": Meta's codes have 6 digits, which the log redaction
            # (connectors/common/redaction.py) would hide as a possible document number.
            codes = ", ".join(f"graph-error-{code} {title}" for code, title in event.errors) or "sin detalle"
            logger.warning("whatsapp status failed for message %s: %s", tag, codes)
        else:
            logger.info("whatsapp status %s for message %s", event.status, tag)
