"""Rasa's callback channel, but a receiver's 4xx/5xx answer is an error, not a success.

Rasa 3.6's ``CallbackOutput`` logs a failed POST and carries on, so a proactive
message (a case notification through ``trigger_intent``) is reported as sent while
the receiver never got it. Raising instead makes ``trigger_intent`` answer 500, and
the backend's outbox retries the notification later.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.callback import CallbackInput as RasaCallbackInput
from rasa.core.channels.callback import CallbackOutput
from rasa.core.channels.channel import CollectingOutputChannel


class StrictCallbackOutput(CallbackOutput):
    async def _persist_message(self, message: dict[str, Any]) -> None:
        await CollectingOutputChannel._persist_message(self, message)
        # EndpointConfig.request raises ClientResponseError for any status >= 400.
        await self.callback_endpoint.request("post", content_type="application/json", json=message)


class CallbackInput(RasaCallbackInput):
    @classmethod
    def name(cls) -> str:
        return "callback"

    def get_output_channel(self) -> CollectingOutputChannel:
        return StrictCallbackOutput(self.callback_endpoint)
