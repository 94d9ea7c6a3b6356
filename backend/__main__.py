"""``python -m backend``: serves the backend with uvicorn on the configured port.

``python -m backend users ...`` manages staff accounts instead (see backend/cli_users.py).
"""

from __future__ import annotations

import logging
import os
import sys

from connectors.common import redaction


def main() -> None:
    if sys.argv[1:2] == ["users"]:  # before the server's heavy imports
        from backend.cli_users import main as users_main

        raise SystemExit(users_main(sys.argv[2:]))
    import uvicorn

    from backend.api import create_app
    from backend.settings import BackendSettings

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
