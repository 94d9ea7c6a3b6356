"""The web chat in a real browser (Debian's headless Chromium) against the real stack.

Both widgets are used the way a citizen uses them: our own widget (keyboard only,
answer with its source chip, buttons, reload, a real network drop, axe-core) and the
third-party ``rasa-webchat`` from npm on its compatibility page. Nothing is mocked:
the page server, Rasa, the action server and the knowledge base are the real ones.
One browser for the module; each test gets a fresh context (empty storage).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from launcher.webpage import make_server
from tests.browser.proxy import TcpProxy, tcp_proxy
from tests.conftest import IN_CI, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "var" / "browser"
REPLY_TIMEOUT_MS = 60_000  # first answers may wait for the embedding model to warm up
# A cost question: the answer is the cost passage, so «Ver requisitos» is offered next.
PASSPORT_QUESTION = "cuanto cuesta sacar el pasaporte por primera vez"
# A follow-up without the procedure's name: answered within the procedure last talked about.
FOLLOW_UP_QUESTION = "y que requisitos piden?"
LOG_SCROLLED_TO_END = """() => {
  const log = document.querySelector('#ventanilla-widget').shadowRoot.querySelector('.vw-log');
  return log.scrollTop + log.clientHeight >= log.scrollHeight - 2;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"Chromium no está instalado en {CHROMIUM} (make browser lo instala)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """One browser tab plus the JavaScript errors it raised (there must be none)."""

    def __init__(self, browser: Any, **context_options: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="es-AR", **context_options)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, stack: Any) -> Iterator[Tab]:
    opened = Tab(browser)
    yield opened
    opened.close()


class Widget:
    """Our widget on a page, found the way assistive technology finds it (roles, names)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name="Asistente virtual")
        self.input = page.get_by_label("Escriba su consulta")
        self.log = page.get_by_role("log", name="Conversación con el asistente")
        self.dialog = page.locator("#vw-panel")
        self.typing = page.locator(".vw-typing")
        self.sources = page.locator(".vw-source")
        self.status = page.locator(".vw-status")
        self.announcer = page.locator(".vw > [aria-live=polite]")

    def has_focus(self, locator: Any) -> bool:
        return bool(locator.evaluate("el => el.getRootNode().activeElement === el"))

    def open_with_keyboard(self) -> None:
        for _ in range(30):  # Tab through the page until the launcher has focus
            self.page.keyboard.press("Tab")
            if self.has_focus(self.launcher):
                break
        else:
            pytest.fail("el botón del asistente no se alcanza con Tab")
        self.page.keyboard.press("Enter")
        expect(self.dialog).to_be_visible()
        expect(self.launcher).to_have_attribute("aria-expanded", "true")
        assert self.has_focus(self.input), "al abrir, el foco debe ir al campo de texto"

    def ask(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def session_id(self) -> str:
        saved = self.page.evaluate("localStorage.getItem('ventanilla.conversation')")
        return str(json.loads(saved)["sessionId"])

    def transcript(self) -> list[str]:
        return [t.strip() for t in self.log.locator(".vw-msg, .vw-source").all_inner_texts()]


def tracker_user_texts(stack: Any, session_id: str) -> list[str]:
    url = f"{stack.rasa_url}/conversations/{session_id}/tracker?token={stack.rasa_token}"
    with urllib.request.urlopen(url, timeout=10) as response:
        tracker = json.loads(response.read())
    return [event.get("text") or "" for event in tracker["events"] if event.get("event") == "user"]


def test_widget_keyboard_conversation_with_source_buttons_and_reload(stack: Any, tab: Tab) -> None:
    page = tab.page
    page.goto(stack.web_url)
    widget = Widget(page)

    widget.open_with_keyboard()
    expect(widget.log).to_contain_text("trámites", timeout=REPLY_TIMEOUT_MS)  # the greeting (/greet)

    widget.ask(PASSPORT_QUESTION)
    assert widget.typing.is_visible(), "el indicador de escritura debe verse mientras se espera"
    expect(widget.sources).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(widget.typing).to_be_hidden()

    chip = widget.sources.first
    link = chip.get_by_role("link")
    assert link.get_attribute("href").endswith("/tramites/pasaporte-emision")
    assert link.get_attribute("rel") == "noopener noreferrer"
    expect(link).to_contain_text("asaporte")
    expect(chip).to_contain_text(re.compile(r"Revisado el \d{2}/\d{2}/\d{4}"))
    # The plain-text "Fuente: ..." line (for channels without chips) is replaced by the chip.
    expect(widget.log.locator(".vw-bot", has_text="Fuente:")).to_have_count(0)
    expect(widget.announcer).to_contain_text("El asistente dice:")
    expect(widget.announcer).to_contain_text("Fuente oficial:")
    expect(widget.announcer).not_to_contain_text("El asistente dice: Fuente:")  # replaced, so not read out

    # The last group of options may be «¿Le sirvió esta respuesta?»: take the next-steps one.
    options = (
        page.get_by_role("group", name="Opciones").filter(has=page.get_by_role("button", name="Ver requisitos")).last
    )
    requirements = options.get_by_role("button", name="Ver requisitos")
    requirements.focus()
    page.keyboard.press("Enter")
    expect(widget.log.locator(".vw-user").last).to_have_text(re.compile(r"^\s*(Usted: )?Ver requisitos\s*$"))
    expect(requirements).to_be_disabled()  # answered choices cannot be sent twice
    assert widget.has_focus(widget.input), "tras elegir una opción, el foco vuelve al campo de texto"
    expect(widget.sources).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    expect(widget.log).to_contain_text("Requisitos")
    expect(widget.log.locator(".vw-bot", has_text="¿Qué más quiere hacer?")).to_have_count(2)  # the turn is complete

    page.wait_for_function(LOG_SCROLLED_TO_END)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget-conversation.png"))

    before = widget.transcript()
    session_id = widget.session_id()
    widget.input.focus()
    page.keyboard.press("Escape")
    expect(widget.dialog).to_be_hidden()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    assert widget.has_focus(widget.launcher), "Escape debe devolver el foco al botón del asistente"

    page.reload()
    widget = Widget(page)
    widget.launcher.click()
    expect(widget.sources).to_have_count(2)
    assert widget.transcript() == before
    assert widget.session_id() == session_id
    expect(page.get_by_role("button", name="Iniciar trámite").last).to_be_enabled()

    widget.ask("cuanto sale renovar la licencia de conducir")
    expect(widget.sources).to_have_count(3, timeout=REPLY_TIMEOUT_MS)
    said = tracker_user_texts(stack, session_id)
    assert PASSPORT_QUESTION in said and "cuanto sale renovar la licencia de conducir" in said, said
    assert not tab.errors


@pytest.fixture
def page_through_proxy(stack: Any) -> Iterator[tuple[str, TcpProxy]]:
    """The real demo page, served by a second page server whose Rasa address is a proxy."""
    rasa_port = int(stack.rasa_url.rsplit(":", 1)[1])
    with tcp_proxy("127.0.0.1", rasa_port) as proxy:
        server = make_server(0, proxy.url)
        thread = threading.Thread(target=server.serve_forever, name="page-through-proxy", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/", proxy
        finally:
            server.shutdown()
            server.server_close()


def test_widget_keeps_the_conversation_across_a_network_drop(
    stack: Any, tab: Tab, page_through_proxy: tuple[str, TcpProxy]
) -> None:
    url, proxy = page_through_proxy
    page = tab.page
    page.goto(url)
    widget = Widget(page)
    widget.launcher.click()
    expect(widget.log).to_contain_text("trámites", timeout=REPLY_TIMEOUT_MS)
    widget.ask(PASSPORT_QUESTION)
    expect(widget.sources).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    session_id = widget.session_id()

    proxy.cut()  # the network goes away under the open conversation
    expect(widget.status).to_contain_text("Se perdió la conexión")
    widget.ask("cuanto sale renovar la licencia de conducir")
    expect(widget.status).to_contain_text("se enviará al reconectar")

    proxy.restore()
    expect(widget.status).to_contain_text("Conexión restablecida", timeout=REPLY_TIMEOUT_MS)
    expect(widget.sources).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    assert (
        widget.sources.last.get_by_role("link").get_attribute("href").endswith("/tramites/licencia-conducir-renovacion")
    )
    assert widget.session_id() == session_id
    said = tracker_user_texts(stack, session_id)
    assert said.count(PASSPORT_QUESTION) == 1 and "cuanto sale renovar la licencia de conducir" in said, said
    assert not tab.errors


def test_widget_passes_axe_and_respects_reduced_motion(browser: Any, stack: Any) -> None:
    tab = Tab(browser, reduced_motion="reduce")
    try:
        page = tab.page
        page.goto(stack.web_url)
        widget = Widget(page)
        widget.launcher.click()
        widget.ask(PASSPORT_QUESTION)
        expect(widget.sources).to_have_count(1, timeout=REPLY_TIMEOUT_MS)

        page.add_script_tag(url=f"{stack.web_url}vendor/axe.min.js")
        results = page.evaluate("axe.run(document)")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, "\n".join(serious)
        assert results["passes"], "axe-core no evaluó nada"
        contrast = next(rule for rule in results["passes"] if rule["id"] == "color-contrast")
        # axe-core names shadow-DOM nodes by their path from the host: it did look inside the widget.
        assert any(node["target"][0] and isinstance(node["target"][0], list) for node in contrast["nodes"]), contrast[
            "nodes"
        ][:3]

        assert widget.dialog.evaluate("el => getComputedStyle(el).animationName") == "none"
        assert page.locator(".vw-dot").first.evaluate("el => getComputedStyle(el).animationName") == "none"
        widget.input.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # keyboard focus: :focus-visible applies
        outline = widget.input.evaluate(
            "el => [getComputedStyle(el).outlineStyle, parseFloat(getComputedStyle(el).outlineWidth)]"
        )
        assert outline[0] == "solid" and outline[1] >= 2, outline
        assert not tab.errors
    finally:
        tab.close()


def test_widget_shows_text_as_text_links_only_http_and_clears(stack: Any, tab: Tab) -> None:
    page = tab.page
    page.goto(stack.web_url)
    widget = Widget(page)
    widget.launcher.click()
    hostile = '<img src=x onerror="window.__pwned=1"> javascript:alert(1) https://example.org/ok'
    widget.ask(hostile)
    bubble = widget.log.locator(".vw-user").last
    expect(bubble).to_contain_text(hostile)
    assert bubble.locator("img").count() == 0
    links = bubble.locator("a")
    expect(links).to_have_count(1)
    assert links.first.get_attribute("href") == "https://example.org/ok"
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None

    # "Borrar la conversación" (for shared computers): history and session are gone.
    old_session = widget.session_id()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Borrar la conversación").click()
    expect(widget.log.locator(".vw-user")).to_have_count(0)
    expect(widget.log).to_contain_text("trámites", timeout=REPLY_TIMEOUT_MS)  # a new greeting
    assert widget.session_id() != old_session
    assert not tab.errors


def test_rasa_webchat_from_npm_works_against_our_server(stack: Any, tab: Tab) -> None:
    page = tab.page
    page.goto(f"{stack.web_url}rasa-webchat.html")
    page.locator(".rw-launcher").click()
    responses = page.locator(".rw-response")
    expect(responses.first).to_be_visible(timeout=REPLY_TIMEOUT_MS)  # the greeting

    new_message = page.locator(".rw-new-message")
    new_message.fill(PASSPORT_QUESTION)
    new_message.press("Enter")
    expect(page.locator(".rw-response", has_text="Fuente:")).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".rw-response", has_text="Fuente:")).to_contain_text("/tramites/pasaporte-emision")
    # rasa-webchat shows messages one by one and keeps only the last message's buttons:
    # the turn ends with «¿Le sirvió esta respuesta?», so that is the button to press.
    feedback = page.locator(".rw-response", has_text="¿Le sirvió esta respuesta?")
    expect(feedback).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    page.locator(".rw-reply", has_text="Sí").first.click()
    expect(page.locator(".rw-client").last).to_have_text("Sí")
    expect(page.locator(".rw-response", has_text="Gracias por contarme")).to_have_count(1, timeout=REPLY_TIMEOUT_MS)

    new_message.fill(FOLLOW_UP_QUESTION)
    new_message.press("Enter")
    expect(page.locator(".rw-response", has_text="Fuente:")).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".rw-response", has_text="Requisitos")).not_to_have_count(0)
    expect(feedback).to_have_count(2, timeout=REPLY_TIMEOUT_MS)  # the turn is complete
    expect(responses.filter(has_text=re.compile(r"\S"))).to_have_count(responses.count())  # no typing bubble left
    count = responses.count()

    page.reload()
    expect(page.locator(".rw-launcher")).to_be_visible()
    if page.locator(".rw-new-message").count() == 0:  # rasa-webchat remembers whether it was open
        page.locator(".rw-launcher").click()
    expect(page.locator(".rw-response", has_text="Fuente:")).to_have_count(2)
    expect(responses).to_have_count(count)
    assert not tab.errors


SOCKET_AS_ANOTHER_SESSION = """async ([url, victim]) => {
  const socket = io(url, {path: '/socket.io/', forceNew: true, transports: ['websocket']});
  const confirmed = await new Promise((resolve) => {
    socket.on('session_confirm', resolve);
    socket.on('connect', () => socket.emit('session_request', {session_id: 'not a valid id!'}));
  });
  socket.emit('user_uttered', {message: 'mensaje ajeno', session_id: victim});
  socket.emit('user_uttered', {message: 'mensaje propio', session_id: confirmed});
  await new Promise((resolve) => socket.on('bot_uttered', resolve));
  socket.disconnect();
  return confirmed;
}"""


def test_a_socket_cannot_speak_for_another_session(stack: Any, tab: Tab) -> None:
    """connectors/socketio.py binds each socket to the session it asked for."""
    page = tab.page
    page.goto(stack.web_url)
    widget = Widget(page)
    widget.launcher.click()
    expect(widget.log).to_contain_text("trámites", timeout=REPLY_TIMEOUT_MS)
    victim = widget.session_id()

    own = page.evaluate(SOCKET_AS_ANOTHER_SESSION, [stack.rasa_url, victim])
    assert re.fullmatch(r"[0-9a-f]{32}", own), own  # a malformed id is replaced by a new one
    assert "mensaje propio" in tracker_user_texts(stack, own)
    assert "mensaje ajeno" not in tracker_user_texts(stack, victim)
    assert "mensaje ajeno" not in tracker_user_texts(stack, own)
