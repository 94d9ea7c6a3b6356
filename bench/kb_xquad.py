"""A generic check of the chosen embedder on XQuAD-R (Spanish): answer-sentence retrieval.

``/work/shared/benchmarks/xquad_r_es/es.json``: 1,190 questions, 1,215 candidate
sentences from 48 Wikipedia articles (LAReQA, CC BY-SA 4.0). The right candidate of a
question is the sentence that contains its answer span (``sentence_breaks``).
Not our domain and never tuned for: it only shows the embedder is sane.

Two rows per embedder:

* dense: cosine similarity of the embedder alone over all 1,215 sentences (exact, full
  ranking; e5 uses its "query:" / "passage:" prefixes);
* hybrid: the knowledge base's own ``Searcher`` with the configured lexical weight,
  every sentence indexed as its own document (no rewriting, no out-of-scope topics,
  no abstention); its MRR is over the top 10.

    .venv/bin/python -m bench.kb_xquad                  # the default embedder (e5)
    .venv/bin/python -m bench.kb_xquad --embedders e5,use
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path("/work/shared/benchmarks/xquad_r_es/es.json")


def load(path: Path) -> tuple[list[str], list[str], list[int]]:
    """Candidate sentences, questions, and the index of each question's answer sentence."""
    data = json.loads(path.read_text(encoding="utf-8"))
    sentences: list[str] = []
    position: dict[str, int] = {}
    questions: list[str] = []
    answers: list[int] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            ids = []
            for sentence in paragraph["sentences"]:
                if sentence not in position:
                    position[sentence] = len(sentences)
                    sentences.append(sentence)
                ids.append(position[sentence])
            for qa in paragraph["qas"]:
                start = qa["answers"][0]["answer_start"]
                which = next(i for i, (a, b) in enumerate(paragraph["sentence_breaks"]) if a <= start <= b)
                questions.append(qa["question"])
                answers.append(ids[which])
    return sentences, questions, answers


def ranking_metrics(ranks: list[int | None], cutoff: int | None = None) -> dict[str, float]:
    """recall@1, recall@5, MRR from 1-based ranks (None: not found within the cutoff)."""
    n = len(ranks)
    return {
        "recall_at_1": sum(1 for r in ranks if r == 1) / n,
        "recall_at_5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "mrr": sum(1 / r for r in ranks if r is not None and (cutoff is None or r <= cutoff)) / n,
    }


def main(argv: list[str] | None = None) -> int:
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import DocumentMeta, build_index, load_index
    from knowledge_base.passages import Passage
    from knowledge_base.search import Searcher
    from knowledge_base.settings import SearchSettings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedders", default=SearchSettings().embedder)
    parser.add_argument("--data", default=str(DATA))
    args = parser.parse_args(argv)
    sentences, questions, answers = load(Path(args.data))
    print(f"XQuAD-R es: {len(questions)} questions, {len(sentences)} candidate sentences.\n")
    print("| embedder | scoring | recall@1 | recall@5 | MRR | embed sentences s | ms / question |")
    print("|---|---|---|---|---|---|---|")
    for name in args.embedders.split(","):
        embedder = make_embedder(name, threads=0)  # bulk embedding: all cores
        started = time.perf_counter()
        passages_matrix = embedder.embed_passages(sentences)
        embed_seconds = time.perf_counter() - started
        started = time.perf_counter()
        queries = embedder.embed_queries(questions)
        query_ms = (time.perf_counter() - started) / len(questions) * 1000
        scores = queries @ passages_matrix.T
        gold = scores[np.arange(len(answers)), answers]
        ranks: list[int | None] = [int((row > g).sum()) + 1 for row, g in zip(scores, gold, strict=True)]
        m = ranking_metrics(ranks)
        print(
            f"| {name} | dense | {m['recall_at_1']:.3f} | {m['recall_at_5']:.3f} | {m['mrr']:.3f} | {embed_seconds:.0f} | {query_ms:.1f} |",
            flush=True,
        )

        settings = SearchSettings(embedder=name)
        passages = [Passage(f"s{i}#0", f"s{i}", "imported", "imported", "", s, s) for i, s in enumerate(sentences)]
        documents = {f"s{i}": DocumentMeta(f"s{i}", "", "2026-01-01", "imported") for i in range(len(sentences))}
        with tempfile.TemporaryDirectory() as tmp:
            build_index(
                passages, documents, embedder, Path(tmp), hnsw_min_size=settings.hnsw_min_size, vectors=passages_matrix
            )
            searcher = Searcher(load_index(Path(tmp)), embedder, settings)
        started = time.perf_counter()
        hybrid: list[int | None] = []
        for question, answer in zip(questions, answers, strict=True):
            ranked = [h.procedure_id for h in searcher.search(question, top_k=10, threshold=float("-inf")).closest]
            hybrid.append(ranked.index(f"s{answer}") + 1 if f"s{answer}" in ranked else None)
        search_ms = (time.perf_counter() - started) / len(questions) * 1000
        m = ranking_metrics(hybrid, cutoff=10)
        w = searcher.tuning.lexical_weight
        print(
            f"| {name} | hybrid (lexical_weight {w}) | {m['recall_at_1']:.3f} | {m['recall_at_5']:.3f} | {m['mrr']:.3f} (@10) | | {search_ms:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
