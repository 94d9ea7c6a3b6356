"""The backend's HTTP service (FastAPI): health now, the staff API grows here."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.db import create_schema, make_engine
from backend.settings import BackendSettings


def create_app(settings: BackendSettings | None = None) -> FastAPI:
    """Builds the app; nothing touches the database until the app starts."""
    settings = settings or BackendSettings()
    app = FastAPI(title="Ventanilla backend", version="0.1.0")
    engine = make_engine(settings.effective_database_url)

    @app.on_event("startup")
    def _schema() -> None:
        create_schema(engine)

    @app.get("/health", tags=["ops"])
    def health() -> JSONResponse:
        """200 when the database answers, 503 otherwise (no details leak)."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app
