"""The held-out split stays held out: no test sentence is also a training sentence.

Compared after removing entity annotations, accents, punctuation, case and spacing, so
that "¿Cómo va mi trámite?" in the split and "como va mi tramite" in training count as
the same sentence. Runs in milliseconds (no Rasa).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from tests.conftest import ROOT

_SPAN_RE = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")


def normalized(example: str) -> str:
    text = _SPAN_RE.sub(r"\1", example)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[a-zñ0-9@]+", text))


def examples(path: Path) -> dict[str, str]:
    """normalised sentence -> intent, for every intent example in a Rasa NLU file."""
    found: dict[str, str] = {}
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        if "intent" in block:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    found[normalized(line.strip()[2:])] = block["intent"]
    return found


def test_normalization_ignores_annotations_accents_and_punctuation() -> None:
    assert (
        normalized('¿Cómo saco el [pasaporte]{"entity": "procedure", "value": "pasaporte-emision"}?')
        == "como saco el pasaporte"
    )


def test_no_test_sentence_is_in_the_training_data() -> None:
    test = examples(ROOT / "tests" / "nlu" / "test_nlu.yml")
    assert len(test) > 200
    training: dict[str, str] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        training.update(examples(path))
    shared = sorted(set(test) & set(training))
    assert shared == [], shared


def test_no_knowledge_base_eval_question_is_in_the_training_data() -> None:
    """dev.jsonl and holdout.jsonl measure answers end to end (bench/e2e_answers.py): the
    counter-examples of issue 13 follow the dev set's phrasing families, never its sentences."""
    import json

    questions = {
        normalized(json.loads(line)["question"])
        for name in ("dev.jsonl", "holdout.jsonl")
        for line in (ROOT / "knowledge_base" / "eval" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert len(questions) > 700
    training: dict[str, str] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        training.update(examples(path))
    shared = sorted(questions & set(training))
    assert shared == [], shared
