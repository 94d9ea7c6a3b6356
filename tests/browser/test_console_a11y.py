"""The console's pages in headless Chromium: axe-core finds no serious or critical WCAG problem,
the pages work with the keyboard alone, focus is visible, and nothing overflows a phone screen.

The backend app (real SQLite file, seeded with the shipped content) is served by uvicorn in a
thread; no Rasa is needed for these pages. axe-core is the npm package already used by the
widget's test (node_modules/axe-core).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from backend.accounts.roles import Role
from backend.interaction_models import HandoffRequest
from backend.models import Case, CaseStatusChange
from tests.backend.conftest import ServedApp
from tests.browser.test_webchat import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import IN_CI, ROOT
from tests.console.conftest import PASSWORD, console_settings, seed

pytestmark = [pytest.mark.browser]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [
    "/console",
    "/console/procedures",
    "/console/procedures/pasaporte-emision",
    "/console/procedures/pasaporte-emision/edit",
    "/console/procedures/pasaporte-emision/history",
    "/console/import",
    "/console/users",
    "/console/users/todo",
    "/console/audit",
    "/console/account",
    "/console/cases",
    "/console/cases?overdue=1&sort=status",
    "/console/handoffs",
    "/console/cases/EXP-2026-000123",
    "/console/handoffs/1",  # Rasa is not running: the page says so in the conversation panel
]


def _seed_case_and_handoff(app: Any) -> None:
    """One overdue case with history and a waiting handoff request, for their pages."""
    now = datetime.now(timezone.utc)
    with app.state.ventanilla.sessions() as db:
        case = Case(
            code="EXP-2026-000123",
            procedure_id="certificado-residencia",
            status="en_revision",
            channel="telegram",
            idempotency_key="a11y-case",
            created_at=now - timedelta(days=30),
            updated_at=now - timedelta(days=20),
            status_since=now - timedelta(days=20),
            full_name="Ana María Pérez",
            contact="ana.perez@correo.com",
        )
        db.add(case)
        db.flush()
        db.add(CaseStatusChange(case_id=case.id, changed_by="oscar", changed_at=now, to_status="en_revision", note="x"))
        db.add(
            HandoffRequest(
                reference="ATN-A11Y01",
                created_at=now,
                updated_at=now,
                state="waiting_agent",
                during_office_hours=True,
                channel="telegram",
                sender_hash="h" * 64,
                summary="Motivo: el ciudadano pidió hablar con una persona",
            )
        )
        db.commit()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    if not CHROMIUM.exists() or not AXE.exists():
        message = f"hace falta {CHROMIUM} (make browser) y {AXE} (make npm)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    settings = console_settings(tmp_path_factory.mktemp("console-a11y"), rasa_url="http://127.0.0.1:9")
    with ServedApp(settings, run_dispatcher=False) as app:
        seed(app.server.config.app, {"todo": frozenset(Role)})  # every role: every page and button
        _seed_case_and_handoff(app.server.config.app)
        yield app


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _login(page: Any) -> None:
    page.goto("/console/login")
    page.get_by_label("Usuario").fill("todo")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hola")


def _serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})")
    assert results["passes"], "axe-core evaluated nothing"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_console_pages_pass_axe_on_desktop_and_phone(served: ServedApp, chromium: Any) -> None:
    problems: list[str] = []
    errors: list[str] = []
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        # axe is injected as an inline script: the console's CSP forbids that, so this context bypasses it.
        context = chromium.new_context(viewport=viewport, base_url=served.url, bypass_csp=True, locale="es-AR")
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        _login(page)
        for path in PAGES:
            page.goto(path)
            problems += [f"{viewport['width']}px {path}: {p}" for p in _serious_violations(page)]
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"] + 1:
                problems.append(f"{viewport['width']}px {path}: the page is {wide}px wide (horizontal scrolling)")
        # A form with errors: each error is tied to its field and the page still passes.
        page.goto("/console/procedures/pasaporte-emision/edit")
        page.get_by_label("Costo", exact=True).fill("Gratis")
        page.get_by_role("button", name="Guardar borrador").click()
        expect(page.locator("#err-f-cost")).to_be_visible()
        expect(page.get_by_label("Costo", exact=True)).to_have_attribute("aria-describedby", re.compile("err-f-cost"))
        problems += [f"{viewport['width']}px edit with errors: {p}" for p in _serious_violations(page)]
        context.close()
    assert not problems, "\n".join(problems)
    assert errors == []


def test_keyboard_alone_reaches_the_content_with_visible_focus(served: ServedApp, chromium: Any) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=served.url, locale="es-AR")
    page = context.new_page()
    _login(page)
    page.goto("/console/procedures")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Ir al contenido")
    assert page.evaluate("getComputedStyle(document.activeElement).left") == "0px"  # the skip link shows itself
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # past the navigation: the page's first control, then the search field
    expect(page.locator(":focus")).to_have_text("Nuevo trámite")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute("id", "f-q")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert outline != "none" or shadow != "none", "the focused field shows no focus indicator"
    page.keyboard.type("pasaporte")
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_contain_text("Emisión de pasaporte (primera vez)")
    expect(page.locator("#results")).not_to_contain_text("Carnet de vacunación")
    context.close()


SHOTS = os.environ.get("VENTANILLA_CONSOLE_SCREENSHOTS", "")


@pytest.mark.skipif(not SHOTS, reason="only with VENTANILLA_CONSOLE_SCREENSHOTS=<dir> (README screenshots)")
def test_screenshots_for_the_readme(served: ServedApp, chromium: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Takes the README's screenshots; the preview searches the test index (read only)."""
    monkeypatch.setenv("VENTANILLA_KB_INDEX_DIR", str(ROOT / "var" / "test-kb-index"))
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1024, "height": 720}, base_url=served.url, locale="es-AR")
    page = context.new_page()
    page.set_default_timeout(300_000)  # the first preview loads the embedding model
    _login(page)
    page.goto("/console/procedures?q=pasaporte")
    page.screenshot(path=str(out / "lista-de-tramites.png"))
    page.goto("/console/procedures/pasaporte-emision/edit")
    cost = page.get_by_label("Costo", exact=True)
    cost.fill("Desde el 1 de marzo el trámite regular cuesta $ 52.500 y el exprés $ 99.000.")
    cost.scroll_into_view_if_needed()
    page.screenshot(path=str(out / "edicion.png"))
    page.get_by_role("button", name="Guardar borrador").click()
    page.get_by_label("Pregunta de un ciudadano").fill("cuanto cuesta sacar el pasaporte por primera vez")
    page.get_by_role("button", name="Probar con el borrador").click()
    expect(page.locator("#preview-result .answer")).to_contain_text("52.500", timeout=300_000)
    page.locator("#h-preview").scroll_into_view_if_needed()
    page.screenshot(path=str(out / "vista-previa.png"))
    page.get_by_role("button", name="Enviar a revisión").click()
    page.goto("/console")
    page.screenshot(path=str(out / "inicio-revisor.png"))
    page.goto("/console/procedures/pasaporte-emision/diff?left=1&right=2")
    page.locator("tr.diff-changed").first.scroll_into_view_if_needed()
    page.screenshot(path=str(out / "diferencias.png"))
    context.close()


def test_new_live_requests_show_in_the_title_and_are_announced(served: ServedApp, chromium: Any) -> None:
    """The inbox polls the waiting count: the title carries it and a polite live region says a request arrived."""
    app = served.server.config.app
    page = chromium.new_page(base_url=served.url)
    _login(page)
    page.goto("/console/handoffs")
    with app.state.ventanilla.sessions() as db:
        waiting = db.query(HandoffRequest).filter(HandoffRequest.state == "waiting_agent").count()
    expect(page).to_have_title(re.compile(rf"^\({waiting}\) "))
    now = datetime.now(timezone.utc)
    with app.state.ventanilla.sessions() as db:
        db.add(
            HandoffRequest(
                reference="ATN-ALERT1", created_at=now, updated_at=now, state="waiting_agent",
                during_office_hours=True, channel="whatsapp", sender_hash="g" * 64, summary="Motivo: prueba",
            )
        )  # fmt: skip
        db.commit()
    expect(page).to_have_title(re.compile(rf"^\({waiting + 1}\) "), timeout=15_000)  # polled every 5 s
    expect(page.locator("#waiting-announcer")).to_have_text(re.compile("Nueva solicitud"))
    assert page.locator("#waiting-announcer").get_attribute("aria-live") == "polite"
    page.close()
