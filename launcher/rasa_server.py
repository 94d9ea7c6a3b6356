"""Entry point of a Rasa server in a container (deploy/rasa.Dockerfile).

Renders the credentials from the environment (launcher/credentials.py: Telegram and
WhatsApp are mounted only when their settings are present), fills in the embedded
defaults of the store variables bot/endpoints.yml names, and replaces itself with
``rasa run``, exactly as launcher/stack.py starts Rasa locally. Runs on Rasa's Python 3.10.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from launcher.credentials import write_credentials
from launcher.stack import EMBEDDED_STORES, rasa_run_argv


def main() -> int:
    token = os.environ.get("VENTANILLA_RASA_TOKEN", "")
    if len(token) < 16:
        sys.exit("VENTANILLA_RASA_TOKEN debe ser un secreto de al menos 16 caracteres (protege la API HTTP de Rasa).")
    # bot/endpoints.yml names these; unset ones get the embedded values (a set
    # VENTANILLA_TRACKER_URL wins over dialect/db).
    port = int(os.environ.get("VENTANILLA_RASA_PORT", "5005"))
    defaults = {
        **EMBEDDED_STORES,
        # Rasa calls the action guard on itself (connectors/action_guard.py), which forwards
        # to VENTANILLA_ACTION_SERVER_URL.
        "VENTANILLA_ACTION_ENDPOINT_URL": f"http://127.0.0.1:{port}/internal/actions/webhook",
        "VENTANILLA_TRACKER_DIALECT": "sqlite",
        "VENTANILLA_TRACKER_DB": "/tmp/rasa_tracker.db",
        # Only read with VENTANILLA_EVENT_BROKER=sql; containers use pika (deploy/compose.yaml).
        "VENTANILLA_EVENT_DB": "/tmp/rasa_events.db",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    credentials = write_credentials(Path(tempfile.mkdtemp(prefix="ventanilla-")), os.environ)
    model = Path(os.environ.get("VENTANILLA_RASA_MODEL", "/app/models/ventanilla.tar.gz"))
    rasa = shutil.which("rasa") or "rasa"
    argv = rasa_run_argv(rasa, model, credentials, port, token, interface="0.0.0.0")
    os.execv(rasa, argv)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
