"""Item 6: the public endpoints of the web side fuzzed: REST, socket.io, the page server.

Pass criterion: no 5xx answer and no dropped connection for any input, the servers
still answer afterwards (no crash), and no bot reply repeats markup from the input
unescaped. Counts go to ``var/fuzz-counts.json`` (quoted in tests/RELIABILITY.md).
Most inputs are cheap (refused before the NLU); a few hundred reach the dialogue.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import uuid
from collections import Counter
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.reliability.counts import record_counts
from tests.reliability.fuzzing import CONTENT_TYPES, echoed_markup, malformed_bodies, texts
from tests.reliability.helpers import post, say
from tests.reliability.socketio_client import SocketChat

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = settings(
    deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck), phases=[Phase.generate]
)


def _bot_text(messages: Any) -> str:
    return json.dumps(messages, ensure_ascii=False) if messages else ""


def test_rest_malformed_requests_never_get_a_5xx(stack: Any) -> None:
    counts: Counter[str] = Counter()
    url = f"{stack.rasa_url}/webhooks/rest/webhook"

    @given(body=malformed_bodies, content_type=st.sampled_from(CONTENT_TYPES))
    @settings(FAST, max_examples=1200)
    def send(body: bytes, content_type: str) -> None:
        status, answer = post(url, body, content_type)
        counts["inputs"] += 1
        counts["5xx"] += status >= 500
        assert status < 500, (status, body[:200], answer[:200])

    try:
        send()
    finally:
        record_counts("REST channel, malformed requests", counts["inputs"], counts["5xx"])
    for empty in (b"null", b"[]", b""):  # answered 500 by Rasa's own REST channel
        status, answer = post(url, empty)
        assert status == 400 and "sender" in answer.decode(), (empty, status)
    assert say(stack.rasa_url, f"fuzz-{uuid.uuid4().hex[:8]}", "hola")[0] == 200


def test_rest_messages_reach_the_bot_without_5xx_or_echoed_markup(stack: Any) -> None:
    counts: Counter[str] = Counter()

    @given(text=texts)
    @settings(FAST, max_examples=250)
    def send(text: str) -> None:
        status, messages, _ = say(stack.rasa_url, f"fuzz-{uuid.uuid4().hex[:12]}", text)
        counts["inputs"] += 1
        counts["5xx"] += status >= 500
        assert status in (200, 413, 429), status
        assert not echoed_markup(text, _bot_text(messages)), (text, messages)

    try:
        send()
    finally:
        record_counts("REST channel, messages to the bot", counts["inputs"], counts["5xx"])


def test_socketio_survives_anything_a_socket_sends(stack: Any) -> None:
    counts: Counter[str] = Counter()
    events = st.one_of(
        st.tuples(st.just("user_uttered"), st.builds(lambda t: {"message": t}, texts)),
        st.tuples(st.sampled_from(["user_uttered", "session_request", "otro", ""]), st.from_type(type(None)) | texts),
        st.tuples(st.just("user_uttered"), st.builds(lambda t: {"message": t, "session_id": "x" * 40}, texts)),
    )

    async def run(batch: list[tuple[str, Any]]) -> list[dict[str, Any]]:
        async with SocketChat(stack.rasa_url) as chat:
            await chat.start_session(uuid.uuid4().hex)
            replies: list[dict[str, Any]] = []
            for event, data in batch:
                await chat.emit(event, data)
            replies += await chat.collect(quiet_for=2.0, timeout=20)
            try:  # broken packets: the server may drop this socket, but must stay up
                await chat.send_raw('42["user_uttered", {"message": ')
                await chat.send_raw("4" + "9" * 300)
                await chat.collect(quiet_for=0.5, timeout=2)
            except websockets.ConnectionClosed:
                pass
        async with SocketChat(stack.rasa_url) as after:  # the server still talks
            await after.start_session(uuid.uuid4().hex)
            assert await after.say("hola"), "no reply after the fuzzing"
        return replies

    @given(batch=st.lists(events, min_size=5, max_size=25))
    @settings(FAST, max_examples=12)
    def send(batch: list[tuple[str, Any]]) -> None:
        replies = asyncio.run(run(batch))
        counts["inputs"] += len(batch) + 2
        sent = " ".join(str(d) for _, d in batch)
        assert not echoed_markup(sent, _bot_text(replies)), replies

    try:
        send()
    finally:
        record_counts("socket.io", counts["inputs"], counts["5xx"])


def _raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_page_server_answers_every_request_without_5xx(stack: Any) -> None:
    counts: Counter[str] = Counter()
    paths = st.one_of(
        st.text(max_size=120).map(lambda t: "/" + t),
        st.sampled_from(
            [
                "/../../etc/passwd",
                "/%2e%2e/%2e%2e/etc/passwd",
                "/widget/../../README.md",
                "/" + "a" * 5000,
                "/vendor/../../.env",
                "/index.html?x=<script>",
                "/config.js",
                "/\x00",
                "//",
            ]
        ),
    )

    @given(
        method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "FOO"]),
        path=paths,
        header=st.text(max_size=60),
    )
    @settings(FAST, max_examples=600)
    def send(method: str, path: str, header: str) -> None:
        # Line breaks and spaces would make another request line (HTTP/0.9, no status line).
        path, header = (re.sub(r"[\s\x85\u2028\u2029]", "", v) for v in (path, header))
        request = f"{method} {path or '/'} HTTP/1.1\r\nHost: x\r\nX-Fuzz: {header}\r\nConnection: close\r\n\r\n"
        answer = _raw_request(stack.ports.web, request.encode("utf-8", "surrogatepass"))
        counts["inputs"] += 1
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1."), (method, path, answer[:100])
        status = int(status_line.split()[1])
        counts["5xx"] += status >= 500
        assert status < 500, (method, path, status_line)
        if status == 200 and method == "GET" and ".." in path:
            assert b"root:" not in answer and b"VENTANILLA_" not in answer

    try:
        send()
    finally:
        record_counts("widget page server", counts["inputs"], counts["5xx"])
    assert b"200" in _raw_request(stack.ports.web, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[:20]
