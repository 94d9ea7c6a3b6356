"""A real HTTP server that records every POST and can fail on demand.

Plays Rasa's HTTP API for the dispatcher tests, and the receiving side of Rasa's
callback channel in the end-to-end test. Real HTTP on a real port: clients,
timeouts and connection errors behave as in production. It can answer 5xx for the
next N requests, or not listen at all (``stop()``) and come back on the same port
(``start()``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from launcher.stack import free_port


@dataclass
class Call:
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]
    answered: int


@dataclass
class RecordingServer:
    port: int = field(default_factory=free_port)
    fail_next: int = 0
    fail_status: int = 500
    calls: list[Call] = field(default_factory=list)
    # What GET requests (Rasa's /conversations/<id>/tracker) answer.
    tracker: dict[str, Any] = field(default_factory=lambda: {"paused": False, "active_loop": {}})
    gets: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def delivered(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.answered == 200]

    def start(self) -> RecordingServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                parsed = urlparse(self.path)
                with fake._lock:
                    if fake.fail_next > 0:
                        fake.fail_next -= 1
                        status = fake.fail_status
                    else:
                        status = 200
                    fake.calls.append(Call(parsed.path, parse_qs(parsed.query), body, status))
                payload = json.dumps({"tracker": {"sender_id": "x"}} if status == 200 else {"error": "boom"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                with fake._lock:
                    fake.gets.append(self.path)
                    payload = json.dumps(fake.tracker).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


FakeRasa = RecordingServer
