"""Telegram as a Rasa input and output channel (python-telegram-bot 22).

Mounted at ``/webhooks/telegram/webhook`` when the ``VENTANILLA_TELEGRAM_*`` settings
are present (see launcher/credentials.py). Unlike Rasa 3.6's own Telegram channel, this
one:

* refuses with 403, before reading the body, any POST whose
  ``X-Telegram-Bot-Api-Secret-Token`` header is missing or differs from the secret
  registered with ``setWebhook`` (constant-time comparison);
* contacts Telegram neither at start-up nor to authenticate requests (no ``getMe``);
* reads button presses from ``callback_query.from`` when Telegram leaves out
  ``message`` (inline-mode messages), and acknowledges every press;
* processes each ``update_id`` once, and answers 200 whatever happens while
  processing, so that Telegram never retries an update forever.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from connectors.common import messages, redaction
from connectors.common.intents import citizen_text
from connectors.common.payloads import PayloadRefs
from connectors.common.privacy import pseudonym
from connectors.common.ratelimit import RateLimiter, shared_limiter
from connectors.common.store import ChannelStore, shared_store
from connectors.telegram import bot as tg
from connectors.telegram.render import CALLBACK_DATA_LIMIT, PARSE_MODE, PhotoPlan, TextPlan, html_chunks, keyboard, plan
from connectors.telegram.settings import SECRET_HEADER, TelegramSettings
from connectors.telegram.updates import Action, decide

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
DEDUP_TTL = 24 * 3600  # Telegram keeps undelivered updates for 24 hours


class TelegramOutput(OutputChannel):
    """Sends bot messages with python-telegram-bot's ``Bot``."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, bot: Bot, refs: PayloadRefs, tag_key: str) -> None:
        self.bot = bot
        self.refs = refs
        self._tag_key = tag_key

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        for step in plan(message):
            if isinstance(step, PhotoPlan):
                await self._send_photo(recipient_id, step.url)
            elif isinstance(step, TextPlan):
                await self._send_text(recipient_id, step)

    async def _send_text(self, chat_id: str, step: TextPlan) -> None:
        markup = None
        if step.choices:
            data = [None if c.url else await self.refs.encode(c.payload, CALLBACK_DATA_LIMIT) for c in step.choices]
            markup = InlineKeyboardMarkup.de_json(keyboard(step.choices, data), self.bot)
        chunks = html_chunks(step.text)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            send = functools.partial(
                self.bot.send_message,
                chat_id=chat_id,
                text=chunk,
                parse_mode=PARSE_MODE,
                reply_markup=markup if last else None,
            )
            await tg.call(send, "sendMessage")

    async def _send_photo(self, chat_id: str, url: str) -> None:
        await tg.call(lambda: self.bot.send_photo(chat_id=chat_id, photo=url), "sendPhoto")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def answer_button(self, callback_query_id: str) -> None:
        """Stops the button's loading indicator; a failure here must not lose the press."""
        try:
            await tg.call(lambda: self.bot.answer_callback_query(callback_query_id), "answerCallbackQuery")
        except TelegramError as error:
            logger.info("telegram: could not acknowledge a button press (%s)", type(error).__name__)


class TelegramInput(InputChannel):
    """Receives Telegram webhook updates (or updates relayed by the polling command)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = TelegramSettings.from_env()
        if settings is None:
            raise RasaException(
                "El canal de Telegram necesita VENTANILLA_TELEGRAM_BOT_TOKEN y "
                "VENTANILLA_TELEGRAM_WEBHOOK_SECRET en el entorno (vea .env.example)."
            )
        return cls(settings)

    def __init__(self, settings: TelegramSettings, store: ChannelStore | None = None) -> None:
        self.settings = settings
        self._store = store
        self._output: TelegramOutput | None = None
        self._limiter: RateLimiter | None = None

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = shared_limiter(self.store)
        return self._limiter

    @property
    def store(self) -> ChannelStore:
        if self._store is None:
            self._store = shared_store()
        return self._store

    def get_output_channel(self) -> TelegramOutput:
        if self._output is None:
            self._output = TelegramOutput(
                tg.build_bot(self.settings), PayloadRefs(self.store), self.settings.webhook_secret
            )
        return self._output

    def _secret_ok(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.settings.webhook_secret.encode("utf-8"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("ventanilla_telegram", __name__)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._secret_ok(request):
                logger.warning("telegram: webhook POST with a missing or wrong secret token refused")
                return response.json({"status": "forbidden"}, status=403)
            raw = request.body or b""
            if len(raw) > MAX_BODY_BYTES:
                return response.json({"status": "too large"}, status=413)
            try:
                update = json.loads(raw)
            except ValueError:
                return response.json({"status": "invalid json"}, status=400)
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                return response.json({"status": "not an update"}, status=400)
            status = await self._process(update, on_new_message)
            return response.json({"status": status})

        return bp

    async def _process(self, update: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> str:
        update_id = update["update_id"]
        try:
            if not await self.store.claim(f"tg:{self.settings.bot_id}:update:{update_id}", DEDUP_TTL):
                logger.info("telegram: duplicate update %s ignored", update_id)
                return "duplicate"
            return await self._act(decide(update), update_id, on_new_message)
        except Exception:  # never a 5xx: Telegram would retry the update
            logger.exception("telegram: error while handling update %s", update_id)
            return "error"

    async def _act(
        self, action: Action, update_id: int, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> str:
        output = self.get_output_channel()
        if action.callback_query_id:
            await output.answer_button(action.callback_query_id)
        if action.kind == "ignore" or action.chat_id is None:
            logger.info("telegram: update %s ignored: %s", update_id, action.reason)
            return "ignored"
        tag = pseudonym(action.chat_id, self.settings.webhook_secret)
        verdict = await self.limiter.check(self.name(), action.chat_id)
        if not verdict.allowed:
            logger.info("telegram: update %s throttled (chat %s)", update_id, tag)
            if verdict.first:
                await output.send_response(action.chat_id, {"text": verdict.text})
            return "throttled"
        if action.kind == "reply":
            logger.info("telegram: update %s answered by the channel (chat %s)", update_id, tag)
            await output.send_response(action.chat_id, {"text": action.text})
            return "answered"
        text = action.text
        redaction.remember(text)
        if action.kind == "button":
            text = await output.refs.decode(action.data or "")
            if text is None:
                logger.info("telegram: expired button pressed (chat %s)", tag)
                await output.send_response(action.chat_id, {"text": messages.EXPIRED_OPTION})
                return "answered"
            # A modified client can send any callback data: only our buttons' payloads are intents.
            text = citizen_text(text)
        await on_new_message(
            UserMessage(
                text,
                output,
                action.chat_id,
                input_channel=self.name(),
                message_id=str(update_id),
                metadata=action.metadata or None,
            )
        )
        return "processed"
