"""Evaluation of an index against a file of questions with their expected procedure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from knowledge_base.search import Searcher


@dataclass(frozen=True)
class Question:
    question: str
    expected: str | None  # None: the right behaviour is to abstain


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            questions.append(Question(str(data["question"]), data.get("expected")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: línea inválida ({exc})") from exc
    return questions


def evaluate(searcher: Searcher, questions: list[Question], threshold: float | None = None) -> dict[str, float | int]:
    """top1, recall@3 and MRR over answerable questions (abstaining counts as a miss);
    abstain_on_null over null ones; false_abstain over answerable ones."""
    answerable = [q for q in questions if q.expected is not None]
    nulls = [q for q in questions if q.expected is None]
    top1 = recall3 = rr = false_abstain = 0.0
    for q in answerable:
        result = searcher.search(q.question, top_k=3, threshold=threshold)
        ranked = [h.procedure_id for h in result.hits]
        if result.abstained:
            false_abstain += 1
        if ranked[:1] == [q.expected]:
            top1 += 1
        if q.expected in ranked[:3]:
            recall3 += 1
            rr += 1 / (ranked.index(q.expected) + 1)
    abstained_null = sum(1 for q in nulls if searcher.search(q.question, threshold=threshold).abstained)
    n_ans = max(len(answerable), 1)
    return {
        "n": len(questions),
        "top1": round(top1 / n_ans, 4),
        "recall_at_3": round(recall3 / n_ans, 4),
        "mrr": round(rr / n_ans, 4),
        "abstain_on_null": round(abstained_null / max(len(nulls), 1), 4) if nulls else 0.0,
        "false_abstain": round(false_abstain / n_ans, 4),
    }
