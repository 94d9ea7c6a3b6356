"""Fake Telegram Bot API and WhatsApp Graph API servers on localhost.

Each runs a real HTTP server in a thread and records every request it receives
(method, path, headers, parsed body, arrival time), so tests assert on exactly what
the connectors sent. Failures can be queued per API method to exercise retries.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def api_method(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """A threaded HTTP server that records requests and answers through ``respond``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._failures: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                body = fake.parse_body(raw, self.headers.get("Content-Type") or "")
                body.update({k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()})
                recorded = Recorded(self.command, parsed.path, dict(self.headers.items()), body, time.monotonic())
                with fake._lock:
                    fake.requests.append(recorded)
                    queued = fake._failures.get(recorded.api_method)
                    reply = queued.pop(0) if queued else None
                if reply is None:
                    reply = fake.respond(recorded)
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
        if not raw:
            return {}
        if "json" in content_type:
            value = json.loads(raw)
            return value if isinstance(value, dict) else {"_": value}
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()}
        for key, value in list(form.items()):  # python-telegram-bot JSON-encodes nested values
            if value[:1] in ("{", "["):
                with contextlib.suppress(ValueError):
                    form[key] = json.loads(value)
        return form

    def fail_next(self, api_method: str, *replies: Reply) -> None:
        """The next requests to ``api_method`` get these replies, in order."""
        with self._lock:
            self._failures.setdefault(api_method, []).extend(replies)

    def respond(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def mark(self) -> int:
        """A position in the request log; see :meth:`since`."""
        with self._lock:
            return len(self.requests)

    def since(
        self, mark: int, api_method: str | None = None, where: Callable[[Recorded], bool] | None = None
    ) -> list[Recorded]:
        with self._lock:
            found = self.requests[mark:]
        return [r for r in found if (api_method is None or r.api_method == api_method) and (where is None or where(r))]


class FakeTelegram(FakeServer):
    """Answers the Bot API methods the connectors call, for any token."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1000)
        self.pending_updates: list[dict[str, Any]] = []

    def respond(self, request: Recorded) -> Reply:
        method = request.api_method
        body = request.body
        if method in ("sendMessage", "sendPhoto"):
            chat_id = int(body.get("chat_id", 0))
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
            }
            if "text" in body:
                message["text"] = body["text"]
            return Reply(200, {"ok": True, "result": message})
        if method == "getMe":
            return Reply(
                200,
                {
                    "ok": True,
                    "result": {
                        "id": 123456,
                        "is_bot": True,
                        "first_name": "Ventanilla",
                        "username": "ventanilla_test_bot",
                    },
                },
            )
        if method == "getWebhookInfo":
            return Reply(
                200,
                {
                    "ok": True,
                    "result": {
                        "url": "",
                        "has_custom_certificate": False,
                        "pending_update_count": len(self.pending_updates),
                    },
                },
            )
        if method == "getUpdates":
            offset = int(body.get("offset") or 0)
            with self._lock:
                self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
                result = list(self.pending_updates)
            return Reply(200, {"ok": True, "result": result})
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook"):
            return Reply(200, {"ok": True, "result": True})
        return Reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})


class FakeGraph(FakeServer):
    """Answers ``POST /<version>/<phone-number-id>/messages`` like the Cloud API."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    def respond(self, request: Recorded) -> Reply:
        if request.method == "POST" and request.api_method == "messages":
            to = str(request.body.get("to"))
            return Reply(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": f"wamid.fake{next(self._ids)}"}],
                },
            )
        return Reply(404, {"error": {"message": "Unknown path", "code": 100}})


def telegram_rate_limited(retry_after: int) -> Reply:
    return Reply(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        },
    )


def telegram_server_error() -> Reply:
    return Reply(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


def graph_error(status: int, code: int, message: str, retry_after: int | None = None) -> Reply:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Reply(
        status, {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}}, headers
    )
