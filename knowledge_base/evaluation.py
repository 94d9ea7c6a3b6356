"""Evaluation of an index against a file of questions with their expected procedure.

Each question is searched once; the metrics at any abstention threshold are then
computed from the recorded ranking and confidence, which is what makes the
threshold sweep in ``bench/kb_quality.py`` cheap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from knowledge_base.search import Searcher

METRIC_KEYS = ("n", "top1", "recall_at_3", "mrr", "abstain_on_null", "false_abstain")


@dataclass(frozen=True)
class Question:
    question: str
    expected: str | None  # None: the right behaviour is to abstain


@dataclass(frozen=True)
class Outcome:
    question: Question
    ranked: tuple[str, ...]  # the top 3 procedure ids, abstention ignored
    confidence: float


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict) or not isinstance(data["question"], str):
                raise TypeError('se espera {"question": "...", "expected": "<id>" | null}')
            expected = data.get("expected")
            if expected is not None and not isinstance(expected, str):
                raise TypeError("'expected' debe ser un id o null")
            questions.append(Question(data["question"], expected))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: línea inválida ({exc})") from exc
    if not questions:
        raise ValueError(f"{path}: no tiene preguntas")
    return questions


def run_questions(searcher: Searcher, questions: list[Question]) -> list[Outcome]:
    outcomes = []
    for q in questions:
        result = searcher.search(q.question, top_k=3)
        outcomes.append(Outcome(q, tuple(h.procedure_id for h in result.closest), result.confidence))
    return outcomes


def metrics_at(outcomes: list[Outcome], threshold: float) -> dict[str, float | int]:
    """top1, recall@3 and MRR over answerable questions (abstaining counts as a miss);
    abstain_on_null over null ones; false_abstain over answerable ones."""
    answerable = [o for o in outcomes if o.question.expected is not None]
    nulls = [o for o in outcomes if o.question.expected is None]
    top1 = recall3 = rr = false_abstain = 0.0
    for o in answerable:
        if o.confidence < threshold:
            false_abstain += 1
            continue
        if o.ranked[:1] == (o.question.expected,):
            top1 += 1
        if o.question.expected in o.ranked[:3]:
            recall3 += 1
            rr += 1 / (o.ranked.index(o.question.expected) + 1)
    abstained_null = sum(1 for o in nulls if o.confidence < threshold)
    n_ans = max(len(answerable), 1)
    return {
        "n": len(outcomes),
        "top1": round(top1 / n_ans, 4),
        "recall_at_3": round(recall3 / n_ans, 4),
        "mrr": round(rr / n_ans, 4),
        "abstain_on_null": round(abstained_null / len(nulls), 4) if nulls else 0.0,
        "false_abstain": round(false_abstain / n_ans, 4),
    }


def evaluate(searcher: Searcher, questions: list[Question], threshold: float | None = None) -> dict[str, float | int]:
    """The metrics of ``kb eval`` at the searcher's own threshold (or the one given)."""
    threshold = searcher.tuning.abstain_threshold if threshold is None else threshold
    return metrics_at(run_questions(searcher, questions), threshold)


def miss_kind(outcome: Outcome, threshold: float) -> str | None:
    """Why a question counts against the metrics, or None when it was handled right.

    "abstuvo": an answerable question was abstained on; "respondió": a must-abstain one
    was answered; "fuera del top 3" / "no primero": the expected procedure ranked too low.
    """
    abstained = outcome.confidence < threshold
    expected = outcome.question.expected
    if expected is None:
        return None if abstained else "respondió"
    if abstained:
        return "abstuvo"
    if expected not in outcome.ranked[:3]:
        return "fuera del top 3"
    return None if outcome.ranked[0] == expected else "no primero"
