"""The unanswered inbox, a group's page and the intent review in headless Chromium: axe-core
finds no serious or critical WCAG problem on desktop and phone, nothing overflows a phone
screen, masked data stays masked, and an editor handles a group with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from backend.accounts.roles import Role
from backend.console.routes_content import publisher
from backend.content.publishing import Publisher
from backend.interactions import Candidate
from backend.unanswered.models import Reason
from knowledge_base.settings import SearchSettings
from tests.backend.conftest import ServedApp
from tests.browser.test_console_a11y import AXE, _login, _serious_violations, chromium  # noqa: F401 - fixture
from tests.browser.test_webchat import CHROMIUM
from tests.conftest import IN_CI
from tests.console.conftest import console_settings, seed

pytestmark = [pytest.mark.browser]

QUESTIONS = [
    ("permiso para perro peligroso", Reason.ABSTAINED, 0.9),
    ("como saco el permiso de perro peligroso", Reason.NOT_HELPFUL, 0.8),
    ("permiso perro peligroso, mi dni es 30.123.456 y mi mail ana.gil@example.org", Reason.FALLBACK, 0.3),
    ("quiero denunciar un bache en mi calle", Reason.LOW_RATING, 0.9),
    ("quiero sacar turno para el registro civil", Reason.LOW_CONFIDENCE, 0.4),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    if not CHROMIUM.exists() or not AXE.exists():
        message = f"hace falta {CHROMIUM} (make browser) y {AXE} (make npm)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    var = tmp_path_factory.mktemp("unanswered-a11y")
    with ServedApp(console_settings(var), run_dispatcher=False) as app:
        application = app.server.config.app
        scratch = Publisher(SearchSettings(index_dir=var / "index", embedder="fake", out_of_scope_file=var / "oos.yml"))
        application.dependency_overrides[publisher] = lambda: scratch
        seed(application, {"todo": frozenset(Role)})
        for text, reason, confidence in QUESTIONS:
            application.state.ventanilla.interactions.record_unanswered(
                sender_id="c",
                channel="telegram",
                reason=reason,
                question=text,
                intent="ask_procedure",
                intent_confidence=confidence,
                candidates=[Candidate("registro-mascotas", 0.4)],
                secrets=[],
            )
        yield app


def test_the_inbox_pages_pass_axe_and_keep_data_masked(served: ServedApp, chromium: Any) -> None:  # noqa: F811
    problems: list[str] = []
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        context = chromium.new_context(viewport=viewport, base_url=served.url, bypass_csp=True, locale="es-AR")
        page = context.new_page()
        _login(page)
        page.goto("/console/unanswered")
        group_url = page.get_by_role("link", name="Atender el grupo").first.get_attribute("href")
        for path in ("/console/unanswered", f"{group_url}&procedure=registro-mascotas", "/console/intents"):
            page.goto(path)
            body = page.content()
            assert "30.123.456" not in body and "ana.gil" not in body, path
            problems += [f"{viewport['width']}px {path}: {p}" for p in _serious_violations(page)]
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"] + 1:
                problems.append(f"{viewport['width']}px {path}: the page is {wide}px wide (horizontal scrolling)")
        context.close()
    assert not problems, "\n".join(problems)


def test_an_editor_dismisses_a_group_with_the_keyboard(served: ServedApp, chromium: Any) -> None:  # noqa: F811
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=served.url, locale="es-AR")
    page = context.new_page()
    _login(page)
    page.goto("/console/unanswered")
    expect(page.locator("caption")).to_contain_text("2 grupos")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Enter")
    for _ in range(10):  # the first control of the content is the group's link (past the intro's link)
        page.keyboard.press("Tab")
        if (page.locator(":focus").text_content() or "").startswith("Atender el grupo"):
            break
    expect(page.locator(":focus")).to_contain_text("Atender el grupo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grupo de")
    dismiss = page.get_by_role("button", name="Descartar el grupo")
    dismiss.focus()
    page.keyboard.press("Enter")
    # A regroup may be announced beside it ("Actualizando..."): pick the notice by its text.
    expect(page.get_by_role("status").filter(has_text="Grupo descartado")).to_be_visible()
    expect(page.locator("caption")).to_contain_text("1 grupo,")
    context.close()
