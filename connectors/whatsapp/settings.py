"""WhatsApp Cloud API settings, from ``VENTANILLA_WHATSAPP_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.common.config import ChannelConfigError, read_group

ACCESS_TOKEN = "VENTANILLA_WHATSAPP_ACCESS_TOKEN"  # noqa: S105 - variable names, not secrets
APP_SECRET = "VENTANILLA_WHATSAPP_APP_SECRET"  # noqa: S105
VERIFY_TOKEN = "VENTANILLA_WHATSAPP_VERIFY_TOKEN"  # noqa: S105
PHONE_NUMBER_ID = "VENTANILLA_WHATSAPP_PHONE_NUMBER_ID"
API_BASE_URL = "VENTANILLA_WHATSAPP_API_BASE_URL"
TEMPLATE_NAME = "VENTANILLA_WHATSAPP_TEMPLATE_NAME"
TEMPLATE_LANGUAGE = "VENTANILLA_WHATSAPP_TEMPLATE_LANGUAGE"

REQUIRED = (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, PHONE_NUMBER_ID)
# The Graph API version is part of the base URL, so an agency can move to a newer one
# from the settings alone.
DEFAULT_API_BASE_URL = "https://graph.facebook.com/v23.0"
DEFAULT_TEMPLATE_LANGUAGE = "es"


@dataclass(frozen=True)
class WhatsAppSettings:
    access_token: str
    app_secret: str
    verify_token: str
    phone_number_id: str
    api_base_url: str = DEFAULT_API_BASE_URL
    template_name: str | None = None
    template_language: str = DEFAULT_TEMPLATE_LANGUAGE

    @property
    def messages_url(self) -> str:
        return f"{self.api_base_url}/{self.phone_number_id}/messages"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WhatsAppSettings | None:
        """The settings, None when WhatsApp is not configured; raises when half configured."""
        env = os.environ if env is None else env
        values = read_group(env, "WhatsApp", REQUIRED)
        if values is None:
            return None
        base = (env.get(API_BASE_URL) or "").strip().rstrip("/") or DEFAULT_API_BASE_URL
        if not base.startswith(("https://", "http://")):
            raise ChannelConfigError(f"WhatsApp: {API_BASE_URL} debe empezar con https:// (es {base!r}).")
        if not values[PHONE_NUMBER_ID].isdigit():
            raise ChannelConfigError(f"WhatsApp: {PHONE_NUMBER_ID} debe ser el identificador numérico del número.")
        return cls(
            access_token=values[ACCESS_TOKEN],
            app_secret=values[APP_SECRET],
            verify_token=values[VERIFY_TOKEN],
            phone_number_id=values[PHONE_NUMBER_ID],
            api_base_url=base,
            template_name=(env.get(TEMPLATE_NAME) or "").strip() or None,
            template_language=(env.get(TEMPLATE_LANGUAGE) or "").strip() or DEFAULT_TEMPLATE_LANGUAGE,
        )
