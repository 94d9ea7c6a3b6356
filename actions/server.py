"""The action server: rasa_sdk's executor behind our own small Sanic app.

Every action call runs on a worker thread (``actions.offload``), never on this
server's event loop: a slow search, database or case-service call of one citizen no
longer holds up everyone else's.

Why not ``python -m rasa_sdk``: its error handler echoes the whole request body
(the tracker, with the citizen's messages) into the response and the log, and its
``/health`` says "ok" before the knowledge base is even loaded. Here ``/health``
reports ready only after the index and the case store answered, and errors are
returned without any payload.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.metrics import install as install_metrics
from actions.offload import ActionPool
from actions.services import Services, build_services, set_services
from actions.settings import ActionSettings, load_settings
from actions.stage_timing import instrument
from connectors.common import redaction

logger = logging.getLogger("actions.server")


def create_app(
    settings: ActionSettings,
    executor: ActionExecutor | None = None,
    services: Callable[[ActionSettings], Services] = build_services,
) -> Sanic[Any, Any]:
    """``services`` builds what the actions use (tests pass deliberately slow fakes)."""
    app = Sanic("ventanilla_actions", configure_logging=False)
    app.config.KEEP_ALIVE_TIMEOUT = 120
    if executor is None:
        executor = ActionExecutor()
        executor.register_package("actions")
    app.ctx.ready = False
    metrics = install_metrics(app)  # GET /metrics for Prometheus
    pool = ActionPool(settings.action_threads, search_threads=settings.kb.search_threads)

    @app.before_server_start
    async def _load(app: Sanic[Any, Any]) -> None:
        built: Services = await asyncio.get_running_loop().run_in_executor(None, services, settings)
        set_services(instrument(built, metrics.stage))
        app.ctx.ready = True
        logger.info("action server ready index=%s threads=%d", built.search.searcher().index.version, pool.threads)

    @app.after_server_stop
    async def _stop(_: Sanic[Any, Any]) -> None:
        pool.shutdown()

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        if not request.app.ctx.ready:
            return response.json({"status": "loading"}, status=503)
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def actions(_: Request) -> HTTPResponse:
        return response.json([a.model_dump() for a in executor.list_actions()])

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        action_call = request.json
        if not isinstance(action_call, dict):
            return response.json({"error": "invalid body"}, status=400)
        name = str(action_call.get("next_action", ""))
        _remember_citizen_text(action_call)
        started = time.perf_counter()
        try:
            result = await pool.run(lambda: executor.run(action_call))
        except ActionExecutionRejection as exc:
            metrics.action_done(name, 400, None)
            return response.json({"error": exc.message, "action_name": exc.action_name}, status=400)
        except ActionNotFoundException as exc:
            logger.error("unknown action %s", exc.action_name)
            metrics.action_done(name, 404, None)
            return response.json({"error": exc.message, "action_name": exc.action_name}, status=404)
        except ActionMissingDomainException as exc:
            metrics.action_done(name, 449, None)
            return response.json({"error": exc.message, "action_name": exc.action_name}, status=449)
        except Exception:  # never echo the tracker back
            logger.exception("action %s failed", name)
            metrics.action_done(name, 500, None)
            return response.json({"error": "action failed", "action_name": name}, status=500)
        body = result.model_dump() if result else None
        metrics.action_duration.labels(name or "unknown").observe(time.perf_counter() - started)
        metrics.action_done(name, 200, body)
        return response.json(body)

    return app


def _remember_citizen_text(action_call: dict) -> None:  # type: ignore[type-arg]
    """The citizen's message and slot values are hidden from every log line of this process."""
    tracker = action_call.get("tracker")
    if not isinstance(tracker, dict):
        return
    latest = tracker.get("latest_message")
    redaction.remember(latest.get("text") if isinstance(latest, dict) else None)
    redaction.remember_slots(tracker.get("slots"))


def main() -> None:
    redaction.install()
    level = os.environ.get("VENTANILLA_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()  # a wrong setting stops here, with the variable's name
    app = create_app(settings)
    app.run(host=settings.action_host, port=settings.action_port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
