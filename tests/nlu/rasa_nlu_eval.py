"""Rasa's NLU evaluation over several test files, loading the model once.

Run with the Rasa environment: ``.venv-rasa/bin/python tests/nlu/rasa_nlu_eval.py
MODEL OUT_DIR FILE...``. For each FILE it does exactly what ``rasa test nlu --model
MODEL --nlu FILE --out OUT_DIR/<name>`` does (``Agent.load`` + ``rasa.nlu.test.
run_evaluation``: ``intent_report.json`` and friends), without paying Rasa's start-up
and the model load once per file. Writes ``OUT_DIR/predictions.json``: per file, the
intent predictions (text, gold intent, predicted intent, confidence).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    model, out_dir, files = argv[0], Path(argv[1]), argv[2:]
    from rasa.core.agent import Agent
    from rasa.nlu.test import run_evaluation

    agent = Agent.load(model_path=model)
    domain = str(Path(__file__).resolve().parents[2] / "bot" / "domain")
    predictions: dict[str, list[dict[str, object]]] = {}
    for file in files:
        result = asyncio.run(
            run_evaluation(
                file,
                agent.processor,
                output_directory=str(out_dir / Path(file).stem),
                disable_plotting=True,
                report_as_dict=True,
                domain_path=domain,
            )
        )
        intents = result.get("intent_evaluation") or {}
        predictions[Path(file).stem] = [
            {"text": p["text"], "intent": p["intent"], "predicted": p["predicted"], "confidence": p["confidence"]}
            for p in intents.get("predictions", [])
        ]
    (out_dir / "predictions.json").write_text(json.dumps(predictions, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
