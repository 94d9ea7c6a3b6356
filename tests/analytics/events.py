"""Raw Rasa events shaped as Rasa 3.6's event broker publishes them, for the analytics tests."""

from __future__ import annotations

from typing import Any


class Script:
    """Builds one conversation's raw events with increasing timestamps."""

    def __init__(self, sender: str, start: float, channel: str = "rest") -> None:
        self.sender, self.ts, self.channel = sender, start, channel
        self.events: list[dict[str, Any]] = []

    def _add(self, event: dict[str, Any], step: float = 0.1) -> Script:
        self.ts += step
        self.events.append({"sender_id": self.sender, "timestamp": round(self.ts, 3), **event})
        return self

    def session(self) -> Script:
        self._add({"event": "action", "name": "action_session_start"})
        self._add({"event": "session_started"})
        return self._add({"event": "action", "name": "action_listen"})

    def user(self, text: str, intent: str, confidence: float = 0.9, entities: list[Any] | None = None) -> Script:
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": entities or [], "text": text}
        return self._add({"event": "user", "text": text, "parse_data": parse, "input_channel": self.channel}, step=1.0)

    def action(self, name: str) -> Script:
        return self._add({"event": "action", "name": name})

    def bot(self, response: str = "", custom: dict[str, Any] | None = None, step: float = 0.25) -> Script:
        data = {"custom": custom} if custom else {}
        return self._add(
            {"event": "bot", "text": "texto del bot", "data": data, "metadata": {"utter_action": response}}, step
        )

    def slot(self, name: str, value: Any) -> Script:
        return self._add({"event": "slot", "name": name, "value": value})

    def answered(self, procedure: str = "pasaporte-emision", score: float = 0.81) -> Script:
        self.user("que necesito para el pasaporte", "ask_procedure").action("action_answer_procedure")
        self.bot("utter_kb_answer").bot(custom={"type": "kb_answer", "procedure_id": procedure, "score": score})
        return self.slot("kb_answered", True).action("action_listen")

    def abstained(self) -> Script:
        self.user("visa para marte", "ask_procedure").action("action_answer_procedure")
        return self.bot("utter_kb_not_sure").slot("kb_answered", False).action("action_listen")
