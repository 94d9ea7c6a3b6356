"""NLU evaluation on the held-out split (never trained on), clean and with typos injected.

Runs Rasa's own evaluation (``rasa test nlu``: see ``rasa_nlu_eval.py``) with the
trained test model, prints per-intent precision/recall and the confusion among
ask_procedure and the intents that steal its questions (open_case, check_case_status,
list_my_cases, out_of_scope), and checks the issue's targets:
macro-F1 >= 0.93 on the split and >= 0.90 on a copy with typos. The typo copy is
generated here, deterministically (fixed seed). Measured numbers: tests/nlu/RESULTS.md.

Macro-F1 is averaged over the gold intents of the split. Like `rasa test nlu`, the
evaluation scores the classifier's top intent (Rasa undoes the FallbackClassifier's
``nlu_fallback`` before scoring); confidences are in the saved predictions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.nlu.typos import typo_copy

pytestmark = pytest.mark.slow

TEST_SPLIT = ROOT / "tests" / "nlu" / "test_nlu.yml"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
# The intents that steal procedure questions (issue 13), and ask_procedure itself.
CONFUSABLE = ("ask_procedure", "open_case", "check_case_status", "list_my_cases", "out_of_scope")
TARGET_CLEAN = 0.93
TARGET_TYPOS = 0.90
SEED = 20261122


def write_typo_copy(source: Path, target: Path, seed: int = SEED) -> None:
    target.write_text(typo_copy(source, seed), encoding="utf-8")


def macro_f1(predictions: list[dict[str, Any]]) -> tuple[float, dict[str, dict[str, float]]]:
    gold = Counter(p["intent"] for p in predictions)
    predicted = Counter(p["predicted"] for p in predictions)
    hits = Counter(p["intent"] for p in predictions if p["intent"] == p["predicted"])
    per_intent: dict[str, dict[str, float]] = {}
    for intent in sorted(gold):
        precision = hits[intent] / predicted[intent] if predicted[intent] else 0.0
        recall = hits[intent] / gold[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = {"precision": precision, "recall": recall, "f1": f1, "support": gold[intent]}
    return sum(v["f1"] for v in per_intent.values()) / len(per_intent), per_intent


def confusion(predictions: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for p in predictions:
        if p["intent"] in CONFUSABLE:
            row = table.setdefault(p["intent"], {})
            column = p["predicted"] if p["predicted"] in CONFUSABLE else "other"
            row[column] = row.get(column, 0) + 1
    return table


def test_typo_copy_is_deterministic_and_keeps_annotations(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yml", tmp_path / "b.yml"
    write_typo_copy(TEST_SPLIT, a)
    write_typo_copy(TEST_SPLIT, b)
    assert a.read_text() == b.read_text()
    assert a.read_text() != TEST_SPLIT.read_text()
    copy = yaml.safe_load(a.read_text())
    original = yaml.safe_load(TEST_SPLIT.read_text())
    assert [blk["intent"] for blk in copy["nlu"]] == [blk["intent"] for blk in original["nlu"]]
    codes = re.findall(r"\[([^\]]+)\]\(case_code\)", a.read_text())
    assert codes and codes == re.findall(r"\[([^\]]+)\]\(case_code\)", TEST_SPLIT.read_text())


@pytest.fixture(scope="module")
def evaluation(test_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("nlu-eval")
    typos = out / "test_nlu_typos.yml"
    write_typo_copy(TEST_SPLIT, typos)
    subprocess.run(
        [
            str(RASA_PY),
            str(ROOT / "tests" / "nlu" / "rasa_nlu_eval.py"),
            str(test_model),
            str(out),
            str(TEST_SPLIT),
            str(typos),
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=900,
        capture_output=True,
    )
    assert (out / "test_nlu" / "intent_report.json").exists()  # what `rasa test nlu` writes
    return json.loads((out / "predictions.json").read_text(encoding="utf-8"))


def _report(name: str, predictions: list[dict[str, Any]]) -> float:
    score, per_intent = macro_f1(predictions)
    lines = [f"\n== {name}: macro-F1 {score:.3f} over {len(predictions)} examples"]
    for intent, v in per_intent.items():
        lines.append(
            f"  {intent:18} P {v['precision']:.2f}  R {v['recall']:.2f}  F1 {v['f1']:.2f}  (n={v['support']:.0f})"
        )
    lines.append(f"  confusion {CONFUSABLE} (row = gold): {json.dumps(confusion(predictions))}")
    print("\n".join(lines))
    results = ROOT / "var" / "nlu-eval"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}.json").write_text(
        json.dumps(
            {
                "macro_f1": score,
                "per_intent": per_intent,
                "confusion": confusion(predictions),
                "errors": [p for p in predictions if p["intent"] != p["predicted"]],
            },
            indent=1,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return score


def test_held_out_split_reaches_the_target(evaluation: dict[str, list[dict[str, Any]]]) -> None:
    score = _report("clean", evaluation["test_nlu"])
    assert score >= TARGET_CLEAN


def test_split_with_typos_reaches_the_target(evaluation: dict[str, list[dict[str, Any]]]) -> None:
    score = _report("typos", evaluation["test_nlu_typos"])
    assert score >= TARGET_TYPOS


def test_the_confusable_intents_are_kept_apart(evaluation: dict[str, list[dict[str, Any]]]) -> None:
    table = confusion(evaluation["test_nlu"])
    for intent in CONFUSABLE:
        row = table[intent]
        # A regression floor, not an issue target (the issue asks to report this confusion).
        assert row.get(intent, 0) / sum(row.values()) >= 0.80, (intent, row)
