"""python-telegram-bot's ``Bot``, built without touching the network, and retried calls.

``Bot.initialize()`` calls ``getMe``; we never call it, so creating the channel (at
Rasa start-up) contacts nobody. The Bot API answers 429 with ``retry_after`` when we
send too fast (python-telegram-bot raises ``RetryAfter``) and 5xx when it is briefly
down (``NetworkError``); both are retried with backoff. ``BadRequest`` (a subclass of
``NetworkError``) is final, and so is a read timeout: the message may have gone out.
"""

from __future__ import annotations

import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from connectors.common.retry import DEFAULT_POLICY, Retry, RetryPolicy, with_retries
from connectors.telegram.settings import TelegramSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")


def build_bot(settings: TelegramSettings, *, read_timeout: float = 15.0) -> Bot:
    """A Bot for the configured API base URL; no request is made here."""
    request = HTTPXRequest(connection_pool_size=16, connect_timeout=5.0, read_timeout=read_timeout, pool_timeout=5.0)
    return Bot(
        settings.bot_token,
        base_url=settings.bot_base_url,
        base_file_url=settings.file_base_url,
        request=request,
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=60.0),
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    raw = getattr(exc, "_retry_after", None)
    if isinstance(raw, dtm.timedelta):
        return raw.total_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def classify(exc: BaseException) -> Retry | None:
    if isinstance(exc, RetryAfter):
        return Retry(retry_after_seconds(exc))
    if isinstance(exc, TimedOut):
        # Only timeouts before anything was sent are safe to repeat.
        cause = exc.__cause__
        return (
            Retry()
            if isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)) or "Pool timeout" in str(exc)
            else None
        )
    if isinstance(exc, BadRequest):
        return None
    if isinstance(exc, NetworkError):
        return Retry()
    return None


async def call(make: Callable[[], Awaitable[T]], what: str, policy: RetryPolicy = DEFAULT_POLICY) -> T:
    """Runs one Bot API call (``make`` creates a fresh coroutine per attempt) with retries."""
    return await with_retries(make, classify, policy, what=f"telegram {what}")
