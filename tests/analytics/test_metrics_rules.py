"""The alert rules, their unit tests, the scrape config and the Grafana dashboard, checked offline.

promtool comes from Debian's prometheus package (`make promtool`, part of `make test`):
skipped locally without it, a failure in CI. The dashboard's queries are checked by
promtool too, written as recording rules (promtool parses every PromQL expression), and
must use only the series our processes expose (METRICS, which test_metrics_scrape.py finds
on the real processes).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import IN_CI, ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "ventanilla-ops.json"
METRICS = {
    "up",
    "ventanilla_http_requests_total",
    "ventanilla_http_request_duration_seconds_bucket",
    "ventanilla_http_errors_total",
    "ventanilla_kb_answers_total",
    "ventanilla_kb_abstentions_total",
    "ventanilla_kb_index_info",
    "ventanilla_case_operations_total",
    "ventanilla_outbox_notifications",
    "ventanilla_outbox_oldest_pending_seconds",
    "ventanilla_action_runs_total",
    "ventanilla_analytics_batch_failures_total",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if IN_CI:
        pytest.fail("promtool no está instalado (make promtool)")
    pytest.skip("promtool no está instalado; `make promtool` lo instala")


def run(*args: str, cwd: Path = PROMETHEUS) -> str:
    done = subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dashboard_queries() -> list[str]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def test_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    assert "SUCCESS: 9 rules found" in run("check", "rules", "alerts.yml")
    run("test", "rules", "alerts.test.yml")
    run("check", "config", "prometheus.yml")


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"ventanilla:dashboard_panel_{n}", "expr": expr} for n, expr in enumerate(dashboard_queries())
    ]}]}  # fmt: skip
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    run("check", "rules", "dashboard.yml", cwd=tmp_path)


def test_dashboard_and_alerts_use_only_series_we_expose() -> None:
    import re

    alerts = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    exprs = [rule["expr"] for group in alerts["groups"] for rule in group["rules"]] + dashboard_queries()
    used = {name for expr in exprs for name in re.findall(r"\b(ventanilla_[a-z_]+|up)\b(?=[{\[ )]|$)", expr)}
    assert used and used <= METRICS, used - METRICS
