"""A ``/health`` route on the Rasa server, mounted like a channel.

Rasa 3.6 has no health route of its own. A channel's blueprint is mounted at its
``url_prefix``, so this one claims ``/health`` and answers 200 once the agent has
a model loaded, 503 before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.common import redaction
from connectors.common.production import UnsafeProductionSettings, refuse_unsafe_production


class HealthInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "health"

    @classmethod
    def from_credentials(cls, credentials: Any) -> InputChannel:
        # Every Rasa server mounts this channel: an unsafe production profile stops it here.
        try:
            refuse_unsafe_production()
        except UnsafeProductionSettings as error:
            raise RasaException(str(error)) from None
        return cls()

    def url_prefix(self) -> str:
        return "/health"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Every Rasa server mounts this channel: personal data is kept out of its logs from here on.
        redaction.install()
        bp = Blueprint("ventanilla_health", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "loading"}, status=503)
            return response.json({"status": "ok"})

        return bp
