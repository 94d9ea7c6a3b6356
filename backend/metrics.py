"""Prometheus metrics of the backend: ``GET /metrics`` (official prometheus_client).

Requests and their latency per route template (never the concrete path: case codes would
become labels), unhandled errors, case operations (writes under ``/cases``), and the
notification outbox read from the database at scrape time (depth per state, failed
deliveries, oldest waiting). One registry per app, so tests can build many apps.
The metric names and labels are what deploy/prometheus/alerts.yml and the Grafana
dashboard use; tests/analytics/test_metrics.py scrapes them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from backend.models import NotificationOutbox, OutboxState

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class OutboxCollector(Collector):
    """The notification outbox, counted when Prometheus scrapes (no bookkeeping in the dispatcher)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "ventanilla_outbox_notifications", "Notifications in the outbox, by state", labels=["state"]
        )
        oldest = GaugeMetricFamily(
            "ventanilla_outbox_oldest_pending_seconds", "Age of the oldest notification still waiting"
        )
        try:
            with self._engine.connect() as conn:
                grouped = select(NotificationOutbox.state, func.count()).group_by(NotificationOutbox.state)
                counts: dict[str, int] = {state: int(n) for state, n in conn.execute(grouped).all()}
                first = conn.execute(
                    select(func.min(NotificationOutbox.created_at)).where(
                        NotificationOutbox.state.in_([OutboxState.PENDING, OutboxState.IN_PROGRESS])
                    )
                ).scalar()
        except Exception:  # noqa: BLE001 - a scrape must answer even when the database does not
            return
        for state in (
            OutboxState.PENDING,
            OutboxState.IN_PROGRESS,
            OutboxState.DELIVERED,
            OutboxState.FAILED,
            OutboxState.CANCELLED,
        ):
            depth.add_metric([state], float(counts.get(state, 0)))
        if first is not None:
            created = first if first.tzinfo else first.replace(tzinfo=UTC)
            oldest.add_metric([], max(0.0, (datetime.now(UTC) - created).total_seconds()))
        else:
            oldest.add_metric([], 0.0)
        yield depth
        yield oldest


class HttpMetrics:
    """Request counters and histograms of one app, on its own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "ventanilla_http_requests",
            "HTTP requests served",
            ["process", "route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "ventanilla_http_request_duration_seconds",
            "HTTP request latency",
            ["process", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "ventanilla_http_errors", "Requests ended by an unhandled error", ["process", "route"], registry=registry
        )
        self.case_operations = Counter(
            "ventanilla_case_operations",
            "Writes to cases (open, status change, note...), by route and result",
            ["route", "method", "result"],
            registry=registry,
        )


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


def install(app: FastAPI, engine: Engine) -> HttpMetrics:
    """Adds the middleware and ``GET /metrics`` to the backend app."""
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    registry.register(OutboxCollector(engine))

    @app.middleware("http")
    async def _measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            metrics.errors.labels("backend", _route_template(request)).inc()
            raise
        route = _route_template(request)
        if route != "/metrics":
            metrics.requests.labels("backend", route, request.method, str(response.status_code)).inc()
            metrics.latency.labels("backend", route, request.method).observe(time.perf_counter() - started)
            if "/cases" in route and request.method in ("POST", "PUT", "PATCH", "DELETE"):
                result = "ok" if response.status_code < 400 else str(response.status_code)
                metrics.case_operations.labels(route, request.method, result).inc()
        return response

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
