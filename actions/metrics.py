"""Prometheus metrics of the action server: ``GET /metrics`` (official prometheus_client).

Read from what the server already sees, so no action has to count anything: each
``/webhook`` call (latency, status), which action ran and how it ended, the knowledge
base's answers (per procedure) and abstentions read from the responses an action
returns (``kb_answer`` payload, ``utter_kb_not_sure``), case operations by action name,
and the version of the index being served (read at scrape time). Names and labels match
the backend's (backend/metrics.py) and deploy/prometheus/alerts.yml.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sanic import Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse, raw

STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Actions that read or write cases, and the operation each one is.
CASE_ACTIONS = {
    "action_submit_case": "open",
    "action_check_case_status": "status_lookup",
    "action_list_my_cases": "list",
}


class IndexCollector(Collector):
    """``ventanilla_kb_index_info{version=...} 1`` for the index the server answers from."""

    def collect(self) -> Iterator[Metric]:
        from actions.services import get_services

        info = GaugeMetricFamily("ventanilla_kb_index_info", "Knowledge-base index being served", labels=["version"])
        try:
            version = str(get_services().search.searcher().index.version)
        except Exception:  # noqa: BLE001 - not loaded yet: no series
            return
        info.add_metric([version], 1.0)
        yield info


class ActionMetrics:
    """Every series of the action server, on one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ventanilla_http_requests", "HTTP requests served", ["process", "route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "ventanilla_http_request_duration_seconds",
            "HTTP request latency",
            ["process", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "ventanilla_http_errors", "Requests ended by an unhandled error", ["process", "route"], registry=r
        )
        self.actions = Counter("ventanilla_action_runs", "Actions run, by result", ["action", "result"], registry=r)
        self.kb_answers = Counter(
            "ventanilla_kb_answers", "Knowledge-base answers given, by procedure", ["procedure"], registry=r
        )
        self.kb_abstentions = Counter("ventanilla_kb_abstentions", "Knowledge-base abstentions (no sé)", registry=r)
        # Where an action call's time goes (bench/load.py's per-stage breakdown): the whole call
        # per action, and inside it the query embedding, the rest of the index search and each
        # case / interaction store call (actions/stage_timing.py).
        self.action_duration = Histogram(
            "ventanilla_action_duration_seconds",
            "Time of one action call on the action server, by action",
            ["action"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stages = Histogram(
            "ventanilla_action_stage_seconds",
            "Time of the stages inside action calls: embedding, index_search, database (by operation)",
            ["stage", "operation"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.case_operations = Counter(
            "ventanilla_case_operations",
            "Case operations from the conversation, by action and result",
            ["route", "method", "result"],
            registry=r,
        )
        r.register(IndexCollector())

    def stage(self, stage: str, operation: str, seconds: float) -> None:
        """One stage of an action call took ``seconds`` (actions/stage_timing.py)."""
        self.stages.labels(stage, operation).observe(seconds)

    def action_done(self, name: str, status: int, result: dict[str, Any] | None) -> None:
        """Counts one action call from its outcome and the responses it returned."""
        outcome = "ok" if status < 400 else str(status)
        self.actions.labels(name or "unknown", outcome).inc()
        if name in CASE_ACTIONS:
            self.case_operations.labels(CASE_ACTIONS[name], "action", outcome).inc()
        for message in (result or {}).get("responses") or []:
            custom = message.get("custom") if isinstance(message, dict) else None
            if isinstance(custom, dict) and custom.get("type") == "kb_answer":
                self.kb_answers.labels(str(custom.get("procedure_id") or "")).inc()
            elif isinstance(message, dict) and message.get("response") == "utter_kb_not_sure":
                self.kb_abstentions.inc()


def install(app: Sanic[Any, Any]) -> ActionMetrics:
    """Request timing middleware and ``GET /metrics`` on the action server's app."""
    metrics = ActionMetrics()

    async def _start(request: Request) -> None:
        request.ctx.metrics_started = time.perf_counter()

    async def _measure(request: Request, response: BaseHTTPResponse) -> None:
        route = request.route.path if request.route else "unmatched"
        route = "/" + route.lstrip("/")
        if route == "/metrics":
            return
        started = getattr(request.ctx, "metrics_started", None)
        metrics.requests.labels("actions", route, request.method, str(response.status)).inc()
        if started is not None:
            metrics.latency.labels("actions", route, request.method).observe(time.perf_counter() - started)
        if response.status >= 500:
            metrics.errors.labels("actions", route).inc()

    app.register_middleware(_start, "request")
    app.register_middleware(_measure, "response")

    @app.get("/metrics")
    async def prometheus_metrics(_: Request) -> HTTPResponse:
        return raw(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    return metrics
