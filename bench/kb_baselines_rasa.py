"""The Rasa side of ``bench/kb_baselines.py``: parse questions with a trained FAQ model.

Runs under Rasa's own Python (``.venv-rasa/bin/python``), so it imports nothing from the
app. It loads the NLU model trained on the knowledge base's FAQs (retrieval intent
``faq`` with one sub-intent per procedure, a ResponseSelector, an ``out_of_scope``
intent and Rasa's FallbackClassifier), parses every question of a JSONL file once after
a warm-up, and prints one JSON line per question: the sub-intent the ResponseSelector
chose, the intent DIET chose, both confidences and the parse time.

    .venv-rasa/bin/python bench/kb_baselines_rasa.py MODEL.tar.gz QUESTIONS.jsonl
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

WARM_UP = 10


def _selected(parsed: dict[str, Any]) -> tuple[str | None, float]:
    """The procedure of the ResponseSelector's best ``faq/<procedure>`` and its confidence."""
    selector = parsed.get("response_selector", {}).get("faq", {}).get("response", {})
    key = selector.get("intent_response_key") or ""
    return (key.split("/", 1)[1] if "/" in key else None), float(selector.get("confidence") or 0.0)


async def _parse_all(model: str, questions: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    for text in questions[:WARM_UP]:
        await agent.parse_message(text)
    rows = []
    for text in questions:
        wall, cpu = time.perf_counter(), time.process_time()
        parsed = await agent.parse_message(text)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        procedure, confidence = _selected(parsed)
        intent = parsed.get("intent") or {}
        rows.append(
            {
                "procedure": procedure,
                "response_confidence": confidence,
                "intent": intent.get("name"),
                "intent_confidence": float(intent.get("confidence") or 0.0),
                "ms": wall * 1000,
                "cpu_ms": cpu * 1000,
            }
        )
    return rows


def main(argv: list[str]) -> int:
    logging.disable(logging.WARNING)
    model, questions_file = argv
    questions = [
        json.loads(line)["question"] for line in Path(questions_file).read_text(encoding="utf-8").splitlines() if line
    ]
    for row in asyncio.run(_parse_all(model, questions)):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
