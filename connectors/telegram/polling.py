"""Long polling for local development: no public URL needed.

    .venv-rasa/bin/python -m connectors.telegram.polling            # with `make run` running
    .venv-rasa/bin/python -m connectors.telegram.polling --rasa-url http://127.0.0.1:5005

It removes the bot's webhook (Telegram does not deliver updates both ways), asks
Telegram for updates with ``getUpdates`` and relays each one, unchanged and with the
secret token, to the running Rasa server's ``/webhooks/telegram/webhook``. The channel
therefore handles polled updates exactly as it handles webhook ones. An update is
confirmed to Telegram (by asking for the next offset) only after Rasa accepted it;
while Rasa is unreachable the same update is retried.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import httpx

from connectors.telegram.settings import SECRET_HEADER
from connectors.telegram.setup_webhook import _settings
from connectors.telegram.updates import ALLOWED_UPDATES

logger = logging.getLogger("connectors.telegram.polling")

RELAY_ATTEMPTS = 30


class RelayRefused(Exception):
    """Rasa answered 4xx: wrong secret, or the Telegram channel is not mounted."""


async def relay(client: httpx.AsyncClient, url: str, secret: str, update: dict[str, Any]) -> str:
    """Posts one update to the channel; retries while Rasa is unreachable or starting."""
    delay = 1.0
    for attempt in range(1, RELAY_ATTEMPTS + 1):
        try:
            response = await client.post(
                url, content=json.dumps(update), headers={SECRET_HEADER: secret, "Content-Type": "application/json"}
            )
        except httpx.TransportError as error:
            logger.warning(
                "Rasa no responde en %s (%s); reintento %d en %.0f s", url, type(error).__name__, attempt, delay
            )
        else:
            if response.status_code < 400:
                return str(response.json().get("status", "ok"))
            if response.status_code < 500:
                raise RelayRefused(
                    f"Rasa respondió {response.status_code} en {url}: "
                    "¿el canal de Telegram está activo y el secreto coincide?"
                )
            logger.warning("Rasa respondió %d; reintento %d en %.0f s", response.status_code, attempt, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
    raise RelayRefused(f"Rasa no aceptó la actualización después de {RELAY_ATTEMPTS} intentos")


async def poll(rasa_url: str, once: bool, timeout: int) -> int:
    from connectors.telegram.bot import build_bot

    settings = _settings()
    webhook_url = f"{rasa_url.rstrip('/')}/webhooks/telegram/webhook"
    bot = build_bot(settings)
    offset: int | None = None
    relayed = 0
    async with bot, httpx.AsyncClient(timeout=120.0) as client:
        await bot.delete_webhook(drop_pending_updates=False)
        logger.info("Recibiendo actualizaciones de @%s por polling y enviándolas a %s", bot.username, webhook_url)
        while True:
            updates = await bot.get_updates(
                offset=offset, timeout=0 if once else timeout, allowed_updates=list(ALLOWED_UPDATES)
            )
            for update in updates:
                raw = update.to_dict()
                status = await relay(client, webhook_url, settings.webhook_secret, raw)
                relayed += 1
                offset = update.update_id + 1
                logger.info("actualización %d: %s", update.update_id, status)
            if once:
                if offset is not None:  # confirms what was relayed
                    await bot.get_updates(offset=offset, timeout=0, limit=1, allowed_updates=list(ALLOWED_UPDATES))
                print(f"{relayed} actualizaciones enviadas a Rasa.")
                return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Recibe actualizaciones de Telegram por polling (desarrollo local).")
    parser.add_argument("--rasa-url", default=os.environ.get("VENTANILLA_RASA_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--once", action="store_true", help="procesa lo pendiente y termina")
    parser.add_argument("--timeout", type=int, default=30, help="segundos de cada long poll")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token
    try:
        return asyncio.run(poll(args.rasa_url, args.once, args.timeout))
    except RelayRefused as error:
        print(str(error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
