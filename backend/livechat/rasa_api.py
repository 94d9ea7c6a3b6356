"""The few calls of Rasa's HTTP API that live chat needs (``rasa run --enable-api``, token).

* Read the conversation: ``GET /conversations/{id}/tracker`` (the tracker store is the
  message log: the citizen's messages are logged there also while the bot is paused).
* Pause / resume the bot for one conversation: append ``pause`` / ``resume`` events
  (Rasa predicts nothing for a paused conversation, so the bot stays silent).
* Say something to the citizen on their channel: append a ``bot`` event with
  ``execute_side_effects=true&output_channel=<channel>``; Rasa then sends it through
  that channel's output (Telegram, WhatsApp, socket.io widget, callback) exactly like
  a bot message, and it stays in the tracker. No domain response is needed, so nothing
  retrains. ``trigger_intent`` cannot be used: Rasa runs no action while paused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from backend.settings import BackendSettings

AGENT_MARK = "ventanilla_agent"  # metadata key on the bot events an agent wrote

# Giving a conversation back: resume, forget the handoff, and mark the bot as listening
# (the citizen's messages logged while paused were never answered by the bot, so without
# it the next turn looks out of order). Same list as actions.handoff.RESUME_EVENTS.
RESUME_EVENTS: list[dict[str, Any]] = [
    {"event": "resume"},
    {"event": "slot", "name": "handoff_mode", "value": None},
    {"event": "action", "name": "action_listen"},
]


class RasaUnavailable(RuntimeError):
    """Rasa did not answer or refused; the console shows a clear message and nothing changes."""


class RasaConversations:
    def __init__(self, settings: BackendSettings, *, timeout: float = 10.0) -> None:
        self._base = settings.rasa_url.rstrip("/")
        self._params = {"token": settings.rasa_token} if settings.rasa_token else {}
        self._timeout = timeout

    def _url(self, sender_id: str, tail: str) -> str:
        return f"{self._base}/conversations/{quote(sender_id, safe='')}/{tail}"

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = httpx.request(method, url, timeout=self._timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        return response

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        response = self._call("GET", self._url(sender_id, "tracker"), params=self._params)
        events = response.json().get("events") or []
        return [e for e in events if isinstance(e, dict)]

    def append(self, sender_id: str, events: list[dict[str, Any]], *, channel: str | None = None) -> None:
        """Appends events; with ``channel``, the bot events among them are sent to the citizen."""
        params = dict(self._params)
        if channel:
            params.update(execute_side_effects="true", output_channel=channel)
        self._call("POST", self._url(sender_id, "tracker/events"), params=params, json=events)

    def pause(self, sender_id: str) -> None:
        self.append(sender_id, [{"event": "pause"}])

    def say(self, sender_id: str, channel: str, text: str, *, agent: str) -> None:
        self.append(sender_id, [{"event": "bot", "text": text, "metadata": {AGENT_MARK: agent}}], channel=channel)

    def resume(self, sender_id: str, channel: str, farewell: str) -> None:
        """Tells the citizen the bot is back, then resumes it (one request: both or neither)."""
        self.append(sender_id, [{"event": "bot", "text": farewell}, *RESUME_EVENTS], channel=channel)
