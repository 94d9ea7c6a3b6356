"""The dashboard and the public page in headless Chromium: the charts are drawn (Chart.js from
node_modules, under the console's CSP), axe-core finds no serious or critical WCAG problem on
either page, on a desktop and a phone, and the public page works without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from backend.accounts.roles import Role
from backend.analytics.recorder import Recorder
from tests.analytics.events import Script
from tests.backend.conftest import ServedApp
from tests.browser.test_console_a11y import AXE, _serious_violations
from tests.browser.test_webchat import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import IN_CI
from tests.console.conftest import PASSWORD, console_settings, seed

pytestmark = [pytest.mark.browser]
HASH_KEY = "test-hash-key-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    if not CHROMIUM.exists() or not AXE.exists():
        message = f"hace falta {CHROMIUM} (make browser) y {AXE} (make npm)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    mp = pytest.MonkeyPatch()
    mp.setenv("VENTANILLA_PUBLIC_PAGE", "true")
    settings = console_settings(tmp_path_factory.mktemp("analytics-browser"))
    with ServedApp(settings, run_dispatcher=False) as app:
        fastapi_app = app.server.config.app
        seed(fastapi_app, {"oscar": frozenset({Role.CASE_OFFICER})}, with_content=False)
        start = datetime.now(UTC).timestamp() - 7200
        scripts = [Script(f"c-{n}", start + n * 10).session() for n in range(14)]
        for n, script in enumerate(scripts):
            script.answered() if n % 4 else script.abstained()
        with fastapi_app.state.ventanilla.sessions() as db:
            Recorder(HASH_KEY).record(db, [e for s in scripts for e in s.events])
            db.commit()
        yield app
    mp.undo()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_dashboard_draws_its_charts_and_passes_axe(served: ServedApp, chromium: Any) -> None:
    problems: list[str] = []
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        errors: list[str] = []
        context = chromium.new_context(viewport=viewport, base_url=served.url, locale="es-AR")
        page = context.new_page()
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto("/console/login")
        page.get_by_label("Usuario").fill("oscar")
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Ingresar").click()
        page.goto("/console/analytics")
        expect(page.locator("canvas[data-drawn=true]")).to_have_count(5)  # drawn under the real CSP
        expect(page.locator("#tabla-resumen")).to_contain_text("14")
        assert errors == [], errors
        page.context.close()
        # axe is injected inline: a context that bypasses the CSP for that.
        context = chromium.new_context(viewport=viewport, base_url=served.url, bypass_csp=True, locale="es-AR")
        page = context.new_page()
        page.goto("/console/login")
        page.get_by_label("Usuario").fill("oscar")
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Ingresar").click()
        for path in ("/console/analytics", "/transparencia"):
            page.goto(path)
            problems += [f"{viewport['width']}px {path}: {p}" for p in _serious_violations(page)]
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"] + 1:
                problems.append(f"{viewport['width']}px {path}: {wide}px wide")
        context.close()
    assert not problems, "\n".join(problems)


def test_public_page_reads_without_javascript(served: ServedApp, chromium: Any) -> None:
    context = chromium.new_context(base_url=served.url, java_script_enabled=False, locale="es-AR")
    page = context.new_page()
    page.goto("/transparencia")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cómo atiende el asistente virtual")
    expect(page.locator("#publico-resumen")).to_contain_text("14")
    expect(page.locator("meter")).to_have_count(2)  # containment and "no sé"; nobody said "¿le sirvió?"
    context.close()
