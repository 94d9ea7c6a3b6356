"""Prometheus metrics of the Rasa server: ``GET /metrics``, mounted like a channel.

Rasa 3.6 has no metrics of its own. This channel claims ``/metrics`` and, when the server
starts, adds request middleware to the whole Sanic app, so every route is measured:
``/webhooks/rest|socketio|telegram|whatsapp/...`` (the channels' webhook results, by status),
the HTTP API, the action guard. Route templates only, never concrete paths (sender ids).
Same names and labels as the backend's and the action server's (``process="rasa"``), so
deploy/prometheus/alerts.yml and the Grafana dashboard cover Rasa too. Reachable on the
Rasa port only: nginx exposes /webhooks and /socket.io to the public, not /metrics.

Runs inside Rasa (Python 3.10): prometheus_client comes from requirements/rasa.in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

logger = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RasaMetrics:
    """The series of one Rasa server, on their own registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ventanilla_http_requests",
            "HTTP requests served",
            ["process", "route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ventanilla_http_request_duration_seconds",
            "HTTP request latency",
            ["process", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "ventanilla_http_errors", "Unhandled errors", ["process", "route"], registry=self.registry
        )

    def install(self, app: Sanic) -> None:
        """Measures every request of ``app`` (called once, when the server starts)."""

        async def _start(request: Request) -> None:
            request.ctx.metrics_started = time.perf_counter()

        async def _measure(request: Request, result: BaseHTTPResponse) -> None:
            route = "/" + (request.route.path if request.route else "unmatched").lstrip("/")
            if route.startswith("/metrics"):
                return
            self.requests.labels("rasa", route, request.method, str(result.status)).inc()
            started = getattr(request.ctx, "metrics_started", None)
            if started is not None:
                self.latency.labels("rasa", route, request.method).observe(time.perf_counter() - started)
            if result.status >= 500:
                self.errors.labels("rasa", route).inc()

        app.register_middleware(_start, "request")
        app.register_middleware(_measure, "response")


class MetricsInput(InputChannel):
    """``/metrics`` on the Rasa server (listed in bot/credentials.yml)."""

    @classmethod
    def name(cls) -> str:
        return "metrics"

    @classmethod
    def from_credentials(cls, credentials: Any) -> InputChannel:
        return cls()

    def url_prefix(self) -> str:
        return "/metrics"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("ventanilla_metrics", __name__)
        try:
            metrics: RasaMetrics | None = RasaMetrics()
        except ImportError:  # an environment installed before requirements/rasa.in had it
            logger.warning("prometheus_client is not installed in Rasa's environment: /metrics answers 503")
            metrics = None

        @blueprint.listener("before_server_start")
        async def _install(app: Sanic, _loop: Any) -> None:
            if metrics is not None:
                metrics.install(app)

        @blueprint.route("/", methods=["GET"])
        async def prometheus_metrics(_: Request) -> HTTPResponse:
            if metrics is None:
                return response.text("prometheus_client no está instalado (make setup)", status=503)
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            return response.raw(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

        return blueprint
