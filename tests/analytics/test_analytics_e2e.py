"""Issue 17, end to end on the real stack: scripted conversations -> exact dashboard figures.

Events go the embedded way (Rasa's SQL event broker -> the backend's drain -> the analytics
tables). The session stack is shared with other tests, so the figures asserted are the
difference between a snapshot before and one after these conversations, each taken once
the drain has emptied Rasa's event table.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import subprocess
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import sessionmaker

from backend.accounts import service as accounts
from backend.accounts.roles import Role
from backend.analytics.queries import Figures, figures
from backend.db import make_engine
from tests.conftest import IN_CI, ROOT, RestChat, customs, texts
from tests.console.conftest import CSRF_INPUT, PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
CODE_RE = re.compile(r"EXP-\d{4}-\d{6}")
DOCUMENT = "31222333"


def wait_drained(stack: Any, timeout: float = 60.0) -> None:
    """Until Rasa's event table is empty twice in a row (the backend drains every second)."""
    events_db = Path(stack.var_dir) / "rasa_events.db"
    deadline, empty_once = time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        with sqlite3.connect(events_db) as db:
            waiting = db.execute("SELECT count(*) FROM events").fetchone()[0]
        if waiting == 0 and empty_once:
            return
        empty_once = waiting == 0
        time.sleep(1.0)
    raise AssertionError(f"{waiting} raw events still waiting after {timeout} s")


def snapshot(stack: Any) -> Figures:
    wait_drained(stack)
    engine = make_engine(f"sqlite:///{Path(stack.var_dir) / 'cases.db'}")
    try:
        today = datetime.now(UTC).date()
        with sessionmaker(engine)() as session:
            return figures(session, date(2000, 1, 1), today)
    finally:
        engine.dispose()


def console_csv(stack: Any, names: list[str]) -> dict[str, list[list[str]]]:
    """Signs in to the stack's console as a new officer and downloads the named CSV tables."""
    engine = make_engine(f"sqlite:///{Path(stack.var_dir) / 'cases.db'}")
    with sessionmaker(engine)() as db:
        if accounts.get_by_username(db, "analista") is None:
            accounts.create_user(
                db, username="analista", display_name="Analista", password=PASSWORD,
                roles=frozenset({Role.CASE_OFFICER}), actor="test", min_length=12,
            )  # fmt: skip
            db.commit()
    engine.dispose()
    with httpx.Client(base_url=stack.backend_url, follow_redirects=False, timeout=30) as client:
        page = client.get("/console/login")
        token = CSRF_INPUT.search(page.text).group(1)  # type: ignore[union-attr]
        login = {"username": "analista", "password": PASSWORD, "next": "/console", "csrf_token": token}
        assert client.post("/console/login", data=login).status_code == 303
        today = datetime.now(UTC).date()
        period = {"desde": (today - timedelta(days=30)).isoformat(), "hasta": today.isoformat()}
        assert "Estadísticas del asistente" in client.get("/console/analytics").text
        return {
            name: list(csv.reader(io.StringIO(client.get(
                "/console/analytics/export.csv", params={"tabla": name, **period}
            ).text)))
            for name in names
        }  # fmt: skip


def delta(after: dict[Any, int], before: dict[Any, int]) -> dict[Any, int]:
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before) if after.get(k, 0) != before.get(k, 0)
    }


def test_scripted_conversations_give_exact_figures(stack: Any) -> None:
    RestChat(stack.rasa_url).say("hola")  # Rasa's event file exists from the first conversation on
    before = snapshot(stack)

    answered = RestChat(stack.rasa_url)
    chips = [c for c in customs(answered.say("que papeles necesito para sacar el pasaporte por primera vez"))]
    assert any(c.get("type") == "kb_answer" for c in chips)
    answered.say("/affirm")  # ¿Le sirvió? sí

    abstained = RestChat(stack.rasa_url)
    first = abstained.say("donde se tramita la visa para viajar a marte")
    assert not [c for c in customs(first) if c.get("type") == "kb_answer"]

    handed_off = RestChat(stack.rasa_url)
    assert "persona" in texts(handed_off.say("quiero hablar con una persona")).lower()

    case = RestChat(stack.rasa_url)
    case.say("quiero iniciar un trámite")
    case.say('/inform{"procedure": "certificado-residencia"}')
    case.say("Ana María Pérez")
    case.say(DOCUMENT)
    case.say("ana.perez@correo.com")
    case.say("/affirm")
    assert CODE_RE.search(texts(case.say("/affirm")))

    rated = RestChat(stack.rasa_url)
    messages = rated.say("gracias, chau")
    said = 1
    if "¿Le puedo ayudar con algo más?" in texts(messages):
        rated.say("no, gracias")
        said += 1
    rated.say('/feedback{"rating": "4"}')
    said += 1

    after = snapshot(stack)
    totals = delta(after.totals, before.totals)
    assert totals.get("conversations") == 5, totals
    assert totals.get("messages_in") == 2 + 1 + 1 + 7 + said, totals
    assert totals.get("answers") == 1 and totals.get("abstentions") == 1, totals
    assert totals.get("handoffs") == 1 and totals.get("cases_opened") == 1, totals
    assert totals.get("contained") == 3, totals  # answered, case, rated; not abstained, not handed off
    assert totals.get("reply_count") == totals["messages_in"], totals  # every message got a reply
    assert delta(dict(after.procedures), dict(before.procedures)) == {"pasaporte-emision": 1}
    assert delta(after.helpful, before.helpful) == {True: 1}
    assert delta(after.ratings, before.ratings) == {4: 1}

    # The console's dashboard and CSV, over HTTP on the stack's backend, show these same figures.
    csv_rows = console_csv(stack, ["resumen", "tramites", "calificaciones"])
    summary = dict(csv_rows["resumen"][1:])
    assert summary["Conversaciones"] == str(after.conversations)
    assert summary["Derivaciones a una persona"] == str(after.total("handoffs"))
    assert summary["Trámites iniciados en la conversación"] == str(after.total("cases_opened"))
    assert dict(csv_rows["tramites"][1:])["pasaporte-emision"] == str(dict(after.procedures)["pasaporte-emision"])
    assert dict(csv_rows["calificaciones"][1:])["4"] == str(after.ratings[4])

    # Nothing personal reached the analytics tables.
    with sqlite3.connect(Path(stack.var_dir) / "cases.db") as db:
        dump = " ".join(
            str(row)
            for table in ("analytics_events", "analytics_conversations", "analytics_daily")
            for row in db.execute(f"SELECT * FROM {table}")
        )
    for personal in (DOCUMENT, "Ana", "correo.com", answered.sender, case.sender):
        assert personal not in dump


def scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return str(response.read().decode())


def test_metrics_of_every_process_we_run_are_scraped(stack: Any) -> None:
    """Backend and action server expose the series the alert rules and the dashboard use."""
    RestChat(stack.rasa_url).say("que papeles necesito para sacar el pasaporte por primera vez")
    RestChat(stack.rasa_url).say("donde se tramita la visa para viajar a marte")
    backend = scrape(stack.backend_url)
    for series in (
        'ventanilla_http_requests_total{method="GET",process="backend",route="/health",status="200"}',
        "ventanilla_http_request_duration_seconds_bucket{",
        'ventanilla_outbox_notifications{state="pending"}',
        'ventanilla_outbox_notifications{state="failed"}',
        "ventanilla_outbox_oldest_pending_seconds ",
    ):
        assert series in backend, series
    actions = scrape(stack.action_url)
    for series in (
        'ventanilla_http_requests_total{method="POST",process="actions",route="/webhook",status="200"}',
        'ventanilla_action_runs_total{action="action_answer_procedure",result="ok"}',
        'ventanilla_kb_answers_total{procedure="pasaporte-emision"}',
        "ventanilla_kb_abstentions_total ",
        'ventanilla_kb_index_info{version="v-',
    ):
        assert series in actions, series


def rasa_has_prometheus_client() -> bool:
    probe = subprocess.run(
        [str(RASA_PY), "-c", "import prometheus_client"], capture_output=True, timeout=60, check=False
    )
    return probe.returncode == 0


def test_rasa_metrics_count_the_channels_webhooks(stack: Any) -> None:
    """Rasa's own /metrics (connectors/metrics.py): every route, the channels' webhooks by status."""
    if not rasa_has_prometheus_client():
        message = "prometheus_client falta en .venv-rasa (requirements/rasa.txt; make setup lo instala)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    RestChat(stack.rasa_url).say("hola")
    rasa = scrape(stack.rasa_url)
    assert (
        'ventanilla_http_requests_total{method="POST",process="rasa",route="/webhooks/rest/webhook",status="200"}'
        in rasa
    )
    assert 'ventanilla_http_request_duration_seconds_bucket{le="0.005",method="POST",process="rasa"' in rasa
