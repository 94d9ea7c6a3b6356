"""Channels are mounted in the rendered credentials only when their settings are complete."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connectors.common.config import ChannelConfigError
from launcher.credentials import TELEGRAM_CHANNEL, WHATSAPP_CHANNEL, channel_credentials, write_credentials

TELEGRAM = {
    "VENTANILLA_TELEGRAM_BOT_TOKEN": "123456:secret-token",
    "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": "webhook-secret",
}
WHATSAPP = {
    "VENTANILLA_WHATSAPP_ACCESS_TOKEN": "EAAG-access-token",
    "VENTANILLA_WHATSAPP_APP_SECRET": "app-secret",
    "VENTANILLA_WHATSAPP_VERIFY_TOKEN": "verify-me",
    "VENTANILLA_WHATSAPP_PHONE_NUMBER_ID": "1122334455667",
}


def test_no_channel_settings_no_channels() -> None:
    credentials = channel_credentials({})
    assert TELEGRAM_CHANNEL not in credentials and WHATSAPP_CHANNEL not in credentials
    assert "connectors.rest.RestInput" in credentials  # the base channels stay (our REST channel)


def test_each_channel_is_mounted_when_configured(tmp_path: Path) -> None:
    assert TELEGRAM_CHANNEL in channel_credentials(TELEGRAM) and WHATSAPP_CHANNEL not in channel_credentials(TELEGRAM)
    assert WHATSAPP_CHANNEL in channel_credentials(WHATSAPP) and TELEGRAM_CHANNEL not in channel_credentials(WHATSAPP)
    path = write_credentials(tmp_path, {**TELEGRAM, **WHATSAPP})
    written = path.read_text()
    rendered = yaml.safe_load(written)
    assert TELEGRAM_CHANNEL in rendered and WHATSAPP_CHANNEL in rendered
    for secret in [*TELEGRAM.values(), *WHATSAPP.values()]:
        assert secret not in written  # secrets stay in the environment


@pytest.mark.parametrize("missing", sorted(WHATSAPP))
def test_half_configured_whatsapp_stops_start_up(missing: str) -> None:
    env = {k: v for k, v in WHATSAPP.items() if k != missing}
    with pytest.raises(ChannelConfigError, match=missing):
        channel_credentials(env)


def test_half_configured_telegram_stops_start_up() -> None:
    with pytest.raises(ChannelConfigError, match="VENTANILLA_TELEGRAM_WEBHOOK_SECRET"):
        channel_credentials({"VENTANILLA_TELEGRAM_BOT_TOKEN": "123456:secret-token"})
