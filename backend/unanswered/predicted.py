"""The intent an NLU parse really predicted (shared by the action server and the broker tap).

Under ``nlu_fallback`` (Rasa's FallbackClassifier) the parse's intent is the fallback
itself; what an editor reviews is the model's best real guess, the ranking's top.
"""

from __future__ import annotations

from typing import Any


def predicted_intent(parse: dict[str, Any]) -> tuple[str, float | None]:
    """The model's best real intent and its confidence (under ``nlu_fallback``, the ranking's top)."""
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    if name == "nlu_fallback":
        ranked = [r for r in parse.get("intent_ranking") or [] if r.get("name") not in (None, "nlu_fallback")]
        if ranked:
            return str(ranked[0]["name"]), float(ranked[0].get("confidence") or 0.0)
    confidence = intent.get("confidence")
    return name, float(confidence) if confidence is not None else None
