"""The backend's HTTP service (FastAPI): health, the staff API and the internal case API.

``create_app`` builds everything but touches nothing: the database is migrated and
the notification dispatcher started when the app starts (lifespan), and stopped
when it stops. OpenAPI docs are at /docs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from backend import api_interactions, api_internal, api_staff
from backend.analytics.wiring import embedded_drain
from backend.auth import StaffDirectory
from backend.casework import CaseNotFound, ConcurrentChange
from backend.console.app import install as install_console
from backend.console.routes_agents import upkeep_loop
from backend.console.routes_unanswered import close_inbox, warm_inbox
from backend.db import create_schema, make_engine
from backend.deps import AppState
from backend.dispatcher import Dispatcher
from backend.interactions import InteractionStore
from backend.metrics import install as install_metrics
from backend.repository import SqlCaseRepository
from backend.settings import BackendSettings
from backend.workflow import InvalidTransition, UnknownStatus

logger = logging.getLogger("backend.api")

DESCRIPTION = """
Ventanilla's case backend.

* **Staff API** (`/staff/...`): `Authorization: Bearer <token>`, tokens and roles from
  `VENTANILLA_STAFF_TOKENS`. Officers list, read, move and annotate cases; admins also
  read the audit log and the notification queue.
* **Internal case API** (`/internal/...`): the REST contract the action server's
  `HttpCaseRepository` speaks, with the `VENTANILLA_CASE_SERVICE_TOKEN` bearer token.
"""


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 with where and what, but never the submitted values (they can be personal data)."""
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        raise TypeError(type(exc).__name__)
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"No existe el trámite {exc}."}, status_code=404)


def _conflict(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ConcurrentChange):
        return JSONResponse(
            {
                "detail": f"Otra persona cambió el estado de {exc} al mismo tiempo. "
                "Recargue el trámite y vuelva a intentar."
            },
            status_code=409,
        )
    return JSONResponse({"detail": str(exc)}, status_code=409)


def _unknown_status(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def _seed_content(sessions: sessionmaker[Session]) -> None:
    """A fresh database takes the shipped YAML procedures as published v1 (the console's store)."""
    from backend.content import service as content

    with sessions() as session:
        if content.seed_if_empty(session):
            logger.info("content store seeded from knowledge_base/content")


def create_app(settings: BackendSettings | None = None, *, run_dispatcher: bool | None = None) -> FastAPI:
    """Builds the app. ``run_dispatcher`` overrides ``settings.notify_enabled`` (tests)."""
    settings = settings or BackendSettings()
    engine = make_engine(settings.effective_database_url)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        repository=SqlCaseRepository(engine, hash_key=settings.case_hash_key, code_prefix=settings.case_code_prefix),
        staff=StaffDirectory(settings.staff_tokens),  # a malformed setting fails here, at start
        interactions=InteractionStore(
            engine, hash_key=settings.case_hash_key, case_code_prefix=settings.case_code_prefix
        ),
    )
    dispatch = settings.notify_enabled if run_dispatcher is None else run_dispatcher

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(create_schema, engine)
        if settings.content_seed_on_start:
            await asyncio.to_thread(_seed_content, state.sessions)
        if settings.unanswered_warm_on_start:
            warm_inbox(app)  # the first inbox grouping, on the inbox cache's own thread
        dispatcher = Dispatcher(engine, settings) if dispatch else None
        task = asyncio.create_task(dispatcher.run(), name="notification-dispatcher") if dispatcher else None
        stop_upkeep = asyncio.Event()
        upkeep_task = (
            asyncio.create_task(upkeep_loop(app, stop_upkeep), name="livechat-upkeep")
            if dispatch and settings.handoff_upkeep_seconds > 0
            else None
        )
        if not len(state.staff):
            logger.warning("VENTANILLA_STAFF_TOKENS is empty: the staff API refuses every request")
        try:
            async with embedded_drain(state.sessions, settings):
                yield
        finally:
            close_inbox(app)
            stop_upkeep.set()
            if upkeep_task is not None:
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(upkeep_task, timeout=15)
            if dispatcher and task:
                dispatcher.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=settings.notify_timeout_seconds + 5)
            engine.dispose()

    app = FastAPI(title="Ventanilla backend", version="0.2.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.ventanilla = state
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(CaseNotFound, _not_found)
    app.add_exception_handler(UnknownStatus, _unknown_status)
    app.add_exception_handler(InvalidTransition, _conflict)
    app.add_exception_handler(ConcurrentChange, _conflict)
    app.include_router(api_staff.router)
    app.include_router(api_internal.router)
    app.include_router(api_interactions.router)
    install_console(app)  # the staff console at /console (sessions, not tokens)
    install_metrics(app, engine)  # GET /metrics for Prometheus

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
