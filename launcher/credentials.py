"""Renders the Rasa credentials file for this run.

Channels are mounted only when their settings are present (Telegram, WhatsApp,
a callback test channel...), so the file is assembled from ``bot/credentials.yml``
plus the environment at start-up, into ``var/credentials.yml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from connectors.telegram.settings import TelegramSettings
from connectors.whatsapp.settings import WhatsAppSettings

ROOT = Path(__file__).resolve().parent.parent
BASE_CREDENTIALS = ROOT / "bot" / "credentials.yml"
TELEGRAM_CHANNEL = "connectors.telegram.channel.TelegramInput"
WHATSAPP_CHANNEL = "connectors.whatsapp.channel.WhatsAppInput"


def channel_credentials(env: Mapping[str, str]) -> dict[str, Any]:
    """The base channels plus the optional ones whose settings are in ``env``."""
    credentials: dict[str, Any] = yaml.safe_load(BASE_CREDENTIALS.read_text()) or {}
    # Telegram and WhatsApp: mounted at /webhooks/telegram/webhook and
    # /webhooks/whatsapp/webhook when their settings are complete (a half-configured
    # channel raises ChannelConfigError). Their secrets stay in the environment, which
    # the channels read in the Rasa process; nothing secret is written to this file.
    if TelegramSettings.from_env(env) is not None:
        credentials[TELEGRAM_CHANNEL] = None
    if WhatsAppSettings.from_env(env) is not None:
        credentials[WHATSAPP_CHANNEL] = None
    callback_url = env.get("VENTANILLA_CALLBACK_URL")
    if callback_url:
        # A callback channel (connectors/callback.py): bot messages are POSTed to this URL (used by tests and
        # by agencies that relay messages to their own systems).
        credentials["connectors.callback.CallbackInput"] = {"url": callback_url}
    return credentials


def write_credentials(var_dir: Path, env: Mapping[str, str]) -> Path:
    path = var_dir / "credentials.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(channel_credentials(env), sort_keys=False, allow_unicode=True))
    return path
