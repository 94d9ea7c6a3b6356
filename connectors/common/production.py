"""What ``VENTANILLA_ENV=production`` refuses at start-up, for the Rasa side.

The backend and the action server already refuse their development defaults
(SQLite, the development hash key and service token, no staff tokens:
``backend/settings.py``). This adds what the Rasa server and the channels need in
front of citizens, checked by the launcher before it starts anything and by the
Rasa server itself when it mounts its channels (``connectors/health.py``), so a
deployment that starts Rasa on its own is refused too:

* no default or short secrets: Rasa's API token, the Telegram webhook secret and the
  WhatsApp app secret and verify token (when those channels are configured), and the
  case hash key and service token;
* no in-memory tracker store: the SQL tracker store must be PostgreSQL
  (``VENTANILLA_TRACKER_DIALECT=postgresql`` and ``VENTANILLA_TRACKER_DB`` set); an
  empty SQLite database is an in-memory one, lost on restart;
* an ``https://`` public URL for the webhooks (``VENTANILLA_PUBLIC_URL``).

Each problem names its variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

MIN_SECRET_CHARS = 32
DEV_DEFAULTS = frozenset(
    {
        "dev-only-case-hash-key-change-me",
        "dev-only-case-service-token-change-me",
        "change-me",
        "changeme",
        "secret",
        "test",
    }
)


def _weak(value: str) -> bool:
    return value in DEV_DEFAULTS or len(value) < MIN_SECRET_CHARS or "change-me" in value


def production_problems(env: Mapping[str, str] | None = None) -> list[str]:
    """One line per unsafe setting when VENTANILLA_ENV=production; empty otherwise."""
    env = os.environ if env is None else env
    if (env.get("VENTANILLA_ENV") or "").strip().lower() != "production":
        return []

    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    problems = []
    secrets = ["VENTANILLA_RASA_TOKEN", "VENTANILLA_CASE_HASH_KEY", "VENTANILLA_CASE_SERVICE_TOKEN"]
    if get("VENTANILLA_TELEGRAM_BOT_TOKEN"):
        secrets.append("VENTANILLA_TELEGRAM_WEBHOOK_SECRET")
    if get("VENTANILLA_WHATSAPP_ACCESS_TOKEN"):
        secrets += ["VENTANILLA_WHATSAPP_APP_SECRET", "VENTANILLA_WHATSAPP_VERIFY_TOKEN"]
    for name in secrets:
        if _weak(get(name)):
            problems.append(
                f"{name}: falta o es un valor de desarrollo; use un secreto de al menos {MIN_SECRET_CHARS} caracteres"
            )
    if get("VENTANILLA_TRACKER_DIALECT").lower() not in ("postgresql", "postgres"):
        problems.append(
            "VENTANILLA_TRACKER_DIALECT: las conversaciones deben guardarse en PostgreSQL (postgresql), "
            "no en SQLite ni en memoria"
        )
    if not get("VENTANILLA_TRACKER_DB"):
        problems.append("VENTANILLA_TRACKER_DB: falta la base de datos de las conversaciones (sin ella se usa memoria)")
    public_url = get("VENTANILLA_PUBLIC_URL")
    if not public_url.lower().startswith("https://"):
        problems.append(
            "VENTANILLA_PUBLIC_URL: la URL pública de los webhooks debe empezar con https:// "
            f"(ahora: {'vacía' if not public_url else 'no es https'})"
        )
    return problems


class UnsafeProductionSettings(RuntimeError):
    """Raised at start-up with every problem, one per line."""


def refuse_unsafe_production(env: Mapping[str, str] | None = None) -> None:
    problems = production_problems(env)
    if problems:
        raise UnsafeProductionSettings(
            "VENTANILLA_ENV=production, pero la configuración no es segura:\n  - " + "\n  - ".join(problems)
        )
