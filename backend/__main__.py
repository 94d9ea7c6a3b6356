"""``python -m backend``: serves the backend with uvicorn on the configured port."""

from __future__ import annotations

import logging
import os

import uvicorn

from connectors.common import redaction

from backend.api import create_app
from backend.settings import BackendSettings


def main() -> None:
    # Our own loggers (dispatcher, migrations) at INFO; they never carry personal data.
    redaction.install()  # libraries' DEBUG lines and exception texts (SQL parameters) carry personal data
    level = os.environ.get("VENTANILLA_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request URLs contain channel ids
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    settings = BackendSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.backend_host,
        port=settings.backend_port,
        log_level=level.lower(),
        access_log=False,  # access logs carry query strings; keep them out
    )


if __name__ == "__main__":
    main()
