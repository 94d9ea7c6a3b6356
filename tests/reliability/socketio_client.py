"""A minimal Socket.IO v4 (Engine.IO 4) client over ``websockets``, for tests.

Speaks just enough of the protocol to talk to Rasa's socket.io channel the way the
widget does: connect to the default namespace, ask for a session, send
``user_uttered`` events (or anything else, for fuzzing) and collect ``bot_uttered``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import websockets


class SocketChat:
    def __init__(self, rasa_url: str) -> None:
        self.url = "ws" + rasa_url.removeprefix("http") + "/socket.io/?EIO=4&transport=websocket"
        self.ws: Any = None
        self.session_id = ""

    async def __aenter__(self) -> SocketChat:
        self.ws = await websockets.connect(self.url, max_size=2**22, open_timeout=20)
        assert (await self.ws.recv()).startswith("0")  # Engine.IO open
        await self.ws.send("40")
        assert (await self._next_packet(10)).startswith("40")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.ws.close()

    async def _next_packet(self, timeout: float) -> str:
        while True:
            packet = await asyncio.wait_for(self.ws.recv(), timeout)
            if packet == "2":  # ping
                await self.ws.send("3")
                continue
            return str(packet)

    async def emit(self, event: str, data: Any) -> None:
        await self.ws.send("42" + json.dumps([event, data]))

    async def send_raw(self, packet: str) -> None:
        await self.ws.send(packet)

    async def start_session(self, session_id: str) -> None:
        await self.emit("session_request", {"session_id": session_id})
        event, value = await self.next_event(10)
        assert event == "session_confirm", (event, value)
        self.session_id = str(value)

    async def next_event(self, timeout: float) -> tuple[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            packet = await self._next_packet(max(0.01, deadline - time.monotonic()))
            if packet.startswith("42"):
                event, *rest = json.loads(packet[2:])
                return str(event), rest[0] if rest else None

    async def say(self, text: str, quiet_for: float = 1.5, timeout: float = 30) -> list[dict[str, Any]]:
        """Sends a message; the bot messages until none came for ``quiet_for`` seconds."""
        await self.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return await self.collect(quiet_for, timeout)

    async def collect(self, quiet_for: float = 1.5, timeout: float = 30) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            wait = quiet_for if replies else min(timeout, deadline - time.monotonic())
            try:
                event, data = await self.next_event(wait)
            except asyncio.TimeoutError:
                break
            if event == "bot_uttered" and isinstance(data, dict):
                replies.append(data)
        return replies
