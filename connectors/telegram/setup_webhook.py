"""Registers (or removes, or shows) the bot's webhook with Telegram.

    .venv-rasa/bin/python -m connectors.telegram.setup_webhook https://chat.example.gob/webhooks/telegram/webhook
    .venv-rasa/bin/python -m connectors.telegram.setup_webhook --info
    .venv-rasa/bin/python -m connectors.telegram.setup_webhook --delete

The webhook is registered with ``VENTANILLA_TELEGRAM_WEBHOOK_SECRET`` as its
``secret_token``, so Telegram sends it back in every request and the channel can
refuse anything else. Settings come from the environment or from ``.env``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from connectors.common.config import ChannelConfigError, load_env_file
from connectors.telegram.settings import TelegramSettings
from connectors.telegram.updates import ALLOWED_UPDATES

ROOT = Path(__file__).resolve().parents[2]


def _settings() -> TelegramSettings:
    load_env_file(ROOT / ".env")
    try:
        settings = TelegramSettings.from_env()
    except ChannelConfigError as error:
        sys.exit(str(error))
    if settings is None:
        sys.exit("Defina VENTANILLA_TELEGRAM_BOT_TOKEN y VENTANILLA_TELEGRAM_WEBHOOK_SECRET (vea .env.example).")
    return settings


async def _run(args: argparse.Namespace) -> int:
    from connectors.telegram.bot import build_bot

    settings = _settings()
    bot = build_bot(settings)
    async with bot:  # initialize() checks the token with getMe
        if args.delete:
            await bot.delete_webhook(drop_pending_updates=args.drop_pending)
            print("Webhook eliminado.")
        elif args.url:
            if not args.url.startswith("https://"):
                print("Telegram solo envía webhooks a direcciones https://", file=sys.stderr)
                return 2
            await bot.set_webhook(
                url=args.url,
                secret_token=settings.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=args.drop_pending,
                max_connections=args.max_connections,
            )
            print(f"Webhook registrado para @{bot.username}: {args.url}")
        info = await bot.get_webhook_info()
        print(f"URL actual: {info.url or '(ninguna: el bot no recibe webhooks)'}")
        print(f"Actualizaciones pendientes: {info.pending_update_count}")
        if info.last_error_message:
            print(f"Último error informado por Telegram: {info.last_error_message}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Registra el webhook de Telegram con su token secreto.")
    parser.add_argument("url", nargs="?", help="URL pública https://.../webhooks/telegram/webhook")
    parser.add_argument("--delete", action="store_true", help="elimina el webhook (por ejemplo, para usar polling)")
    parser.add_argument("--info", action="store_true", help="solo muestra el webhook actual")
    parser.add_argument("--drop-pending", action="store_true", help="descarta las actualizaciones pendientes")
    parser.add_argument("--max-connections", type=int, default=40, help="conexiones simultáneas (1-100)")
    args = parser.parse_args(argv)
    if not (args.url or args.delete or args.info):
        parser.error("indique la URL, --delete o --info")
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
