"""The web widget shows markup in bot messages as text (a FAQ answer containing <script>).

Runs the real widget file in Debian's headless Chromium; the socket.io server is replaced by
a scripted stand-in (the only thing not real here), because what is under test is how the
widget draws what Rasa sends. The console side of the same promise is in
tests/console/test_security.py and tests/console/test_content_pages.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.test_webchat import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import IN_CI, ROOT

pytestmark = [pytest.mark.browser]

WIDGET = ROOT / "connectors" / "webchat" / "widget" / "ventanilla-widget.js"
ORIGIN = "http://agencia.test"
PAGE = f"""<!doctype html><html lang="es"><head><meta charset="utf-8"><title>t</title>
<script>
window.io = function () {{
  var handlers = {{}};
  var socket = {{
    on: function (name, fn) {{ handlers[name] = fn; }},
    emit: function (name) {{
      if (name === "session_request") setTimeout(function () {{ handlers.session_confirm({{session_id: "s-1"}}); }}, 0);
    }},
    connect: function () {{}}, disconnect: function () {{}}
  }};
  window.fakeSocket = {{handlers: handlers}};
  setTimeout(function () {{ handlers.connect(); }}, 0);
  return socket;
}};
</script>
<script src="{ORIGIN}/widget.js" data-open="true" data-init-payload="" defer></script>
</head><body><h1>Agencia</h1></body></html>"""
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> Cuesta <b>$100</b>.'


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"Chromium no está instalado en {CHROMIUM}")
        pytest.skip(f"Chromium no está instalado en {CHROMIUM} (make browser lo instala)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_bot_text_buttons_and_source_with_markup_are_shown_as_text(chromium: Any) -> None:
    context = chromium.new_context()
    page = context.new_page()
    page.route(f"{ORIGIN}/", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    page.route(f"{ORIGIN}/widget.js", lambda route: route.fulfill(path=str(WIDGET), content_type="text/javascript"))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("() => window.fakeSocket && window.fakeSocket.handlers.bot_uttered")
    page.evaluate(
        """(text) => window.fakeSocket.handlers.bot_uttered({
            text: text,
            buttons: [{title: "<img src=x onerror='window.pwned = 3'>Ver requisitos", payload: "/x"}],
            custom: {type: "kb_answer", title: "<b>Trámite</b>", source_url: "javascript:window.pwned = 4",
                     last_reviewed: "2026-01-01"}
        })""",
        HOSTILE,
    )
    root = "document.querySelector('#ventanilla-widget').shadowRoot"
    page.wait_for_function(f"() => {root}.querySelectorAll('.vw-bot').length > 0")
    shown = page.evaluate(f"() => Array.from({root}.querySelectorAll('.vw-bot')).map(n => n.textContent).join('|')")
    assert "<script>window.pwned = 1</script>" in shown and "<b>$100</b>" in shown
    injected = page.evaluate(
        f"""() => ({root}.querySelectorAll('.vw-log script, .vw-log img, .vw-log b').length
                 + {root}.querySelectorAll('a[href^="javascript"]').length)"""
    )
    assert injected == 0
    button = page.evaluate(f"() => {root}.querySelector('.vw-choice').textContent")
    assert button.startswith("<img src=x")
    page.wait_for_timeout(300)  # an onerror handler would have run by now
    assert page.evaluate("() => window.pwned") is None
    assert errors == []
    context.close()
