"""Serves the demo agency page, the web widget and its vendor files (stdlib only).

In production the agency embeds the widget's <script> tag in its own site; this
server stands in for that site during ``make run`` and the browser tests, and it
is also a way to host the widget itself: ``/widget/ventanilla-widget.js`` plus
``/vendor/socket.io.min.js`` (from node_modules, never from a CDN), which the
widget loads from the host it came from.

Pages:
* ``/`` (index.html): our widget, one script tag, under a strict Content-Security-
  Policy (no inline script or style), which shows the widget needs no exception.
* ``/rasa-webchat.html``: the third-party ``rasa-webchat`` widget against the same
  Rasa server (compatibility).
HTML pages get the Rasa server's address where they say ``%SOCKET_URL%``.
"""

from __future__ import annotations

import argparse
import html
import json
import mimetypes
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBCHAT_DIR = ROOT / "connectors" / "webchat"
NODE_MODULES = ROOT / "node_modules"
# Browser packages from npm, served from node_modules (never from a CDN).
VENDOR = {
    "socket.io.min.js": NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js",
    "rasa-webchat.js": NODE_MODULES / "rasa-webchat" / "lib" / "index.js",
    "axe.min.js": NODE_MODULES / "axe-core" / "axe.min.js",
}
# Only these kinds of files are served from connectors/webchat (not the README).
SERVED_SUFFIXES = {".html", ".js", ".css", ".svg", ".png", ".ico"}
SOCKET_URL_MARK = b"%SOCKET_URL%"
# Pages that get the strict policy; rasa-webchat's page needs an inline script.
STRICT_PAGES = {"index.html"}


def content_security_policy(rasa_url: str) -> str:
    """Scripts and styles only from this host; sockets only to it and the Rasa server."""
    socket_origin = rasa_url.rstrip("/")
    ws_origin = "ws" + socket_origin.removeprefix("http")  # http->ws, https->wss
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {socket_origin} {ws_origin}; base-uri 'none'; form-action 'self'; "
        "object-src 'none'; frame-ancestors 'self'"
    )


class PageHandler(BaseHTTPRequestHandler):
    server_version = "VentanillaPage"

    def __init__(self, *args, rasa_url: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.rasa_url = rasa_url
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        return  # no access log: paths are harmless, but keep logs to events only

    def _send(
        self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Only GET is served: any other method is "not allowed" (405), not a server fault (501).
        if code == HTTPStatus.NOT_IMPLEMENTED:
            code = HTTPStatus.METHOD_NOT_ALLOWED
        super().send_error(code, message, explain)

    def do_GET(self) -> None:
        try:
            self._get()
        except (ValueError, OSError):  # a path no file can have (NUL bytes, too long...)
            self._send(b"No encontrado", "text/plain; charset=utf-8", HTTPStatus.NOT_FOUND)

    def _get(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(b'{"status": "ok"}', "application/json")
            return
        if path == "/favicon.ico":
            self.send_response(HTTPStatus.NO_CONTENT)
            self.end_headers()
            return
        if path == "/config.js":
            config = {"socketUrl": self.rasa_url, "socketPath": "/socket.io/"}
            self._send(f"window.VENTANILLA_CONFIG = {json.dumps(config)};\n".encode(), "text/javascript; charset=utf-8")
            return
        if path.startswith("/vendor/") and path.removeprefix("/vendor/") in VENDOR:
            self._file(VENDOR[path.removeprefix("/vendor/")])
            return
        name = "index.html" if path == "/" else path.lstrip("/")
        target = (WEBCHAT_DIR / name).resolve()
        if WEBCHAT_DIR.resolve() not in target.parents or target.suffix not in SERVED_SUFFIXES:
            self._send(b"No encontrado", "text/plain; charset=utf-8", HTTPStatus.NOT_FOUND)
            return
        if target.suffix == ".html":
            self._page(target)
            return
        self._file(target)

    def _page(self, target: Path) -> None:
        if not target.is_file():
            self._send(b"No encontrado", "text/plain; charset=utf-8", HTTPStatus.NOT_FOUND)
            return
        body = target.read_bytes().replace(SOCKET_URL_MARK, html.escape(self.rasa_url, quote=True).encode())
        headers = {"Referrer-Policy": "same-origin"}
        if target.name in STRICT_PAGES:
            headers["Content-Security-Policy"] = content_security_policy(self.rasa_url)
        self._send(body, "text/html; charset=utf-8", headers=headers)

    def _file(self, target: Path) -> None:
        if not target.is_file():
            self._send(b"No encontrado", "text/plain; charset=utf-8", HTTPStatus.NOT_FOUND)
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        self._send(target.read_bytes(), content_type)


def make_server(port: int, rasa_url: str, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The page server, bound but not yet serving (port 0 picks a free port)."""
    return ThreadingHTTPServer((host, port), partial(PageHandler, rasa_url=rasa_url))


def serve(port: int, rasa_url: str, host: str = "127.0.0.1") -> None:
    server = make_server(port, rasa_url, host)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Página de demostración con el widget de chat")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    serve(args.port, args.rasa_url)


if __name__ == "__main__":
    main()
