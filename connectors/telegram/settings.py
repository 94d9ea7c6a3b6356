"""Telegram settings, from ``VENTANILLA_TELEGRAM_*`` environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.common.config import ChannelConfigError, read_group

BOT_TOKEN = "VENTANILLA_TELEGRAM_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
WEBHOOK_SECRET = "VENTANILLA_TELEGRAM_WEBHOOK_SECRET"  # noqa: S105 - a variable name
# The header in which Telegram sends the webhook secret back (checked by channel.py, sent by polling.py).
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
API_BASE_URL = "VENTANILLA_TELEGRAM_API_BASE_URL"

REQUIRED = (BOT_TOKEN, WEBHOOK_SECRET)
DEFAULT_API_BASE_URL = "https://api.telegram.org"

# Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as the webhook secret token.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class TelegramSettings:
    bot_token: str
    webhook_secret: str
    api_base_url: str = DEFAULT_API_BASE_URL

    @property
    def bot_id(self) -> str:
        """The numeric part of the token: identifies the bot without revealing the token."""
        return self.bot_token.split(":", 1)[0]

    @property
    def bot_base_url(self) -> str:
        """python-telegram-bot's ``base_url`` (the token is appended to it)."""
        return f"{self.api_base_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.api_base_url}/file/bot"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelegramSettings | None:
        """The settings, None when Telegram is not configured; raises when half configured."""
        env = os.environ if env is None else env
        values = read_group(env, "Telegram", REQUIRED)
        if values is None:
            return None
        if not _TOKEN.match(values[BOT_TOKEN]):
            raise ChannelConfigError(f"Telegram: {BOT_TOKEN} no tiene la forma 123456:ABC... que da @BotFather.")
        if not _SECRET.match(values[WEBHOOK_SECRET]):
            raise ChannelConfigError(
                f"Telegram: {WEBHOOK_SECRET} debe tener de 1 a 256 caracteres A-Z, a-z, 0-9, _ o - "
                "(por ejemplo, el resultado de `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
            )
        base = (env.get(API_BASE_URL) or "").strip().rstrip("/") or DEFAULT_API_BASE_URL
        if not base.startswith(("https://", "http://")):
            raise ChannelConfigError(f"Telegram: {API_BASE_URL} debe empezar con https:// (es {base!r}).")
        return cls(bot_token=values[BOT_TOKEN], webhook_secret=values[WEBHOOK_SECRET], api_base_url=base)
