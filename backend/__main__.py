"""``python -m backend``: serves the backend with uvicorn on the configured port."""

from __future__ import annotations

import uvicorn

from backend.api import create_app
from backend.settings import BackendSettings


def main() -> None:
    settings = BackendSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.backend_host,
        port=settings.backend_port,
        log_level="info",
        access_log=False,  # access logs carry query strings; keep them out
    )


if __name__ == "__main__":
    main()
