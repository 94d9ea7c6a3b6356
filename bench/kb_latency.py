"""Search latency, index build time and memory at 1k, 10k and 100k passages.

What is real and what is synthetic:

* The QUERY side is real: every search embeds a real question from the development
  set with the configured embedder (e5 by default), then runs the real ``Searcher``
  (rewriting, BM25, FAISS, per-procedure aggregation, abstention).
* The PASSAGE side of the 1k/10k/100k collections is synthetic: random unit vectors
  (embedding 100k passages with e5 would take hours on 2 cores) and texts of 40
  words drawn from the vocabulary of the real content, so BM25 postings have a
  realistic shape. Passages are grouped 20 per synthetic procedure. At
  ``hnsw_min_size`` (20,000 by default) the index switches from exact search to HNSW;
  100k is also measured with exact search for comparison.
* Each size runs in its own process, so the memory figures (RSS after loading the
  index, and the peak RSS of the process) are not polluted by the previous size.

    .venv/bin/python -m bench.kb_latency                     # 1k, 10k, 100k (+100k exact), 3 runs x 200 queries
    .venv/bin/python -m bench.kb_latency --sizes 1000 --runs 1 --queries 50
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PASSAGES_PER_PROCEDURE = 20
WORDS_PER_PASSAGE = 40


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _synthetic_corpus(size: int, dim: int, seed: int = 7):  # type: ignore[no-untyped-def]
    from knowledge_base.corpus import load_corpus
    from knowledge_base.index import DocumentMeta
    from knowledge_base.passages import Passage
    from knowledge_base.settings import SearchSettings

    corpus = load_corpus(SearchSettings())
    vocabulary = sorted({w.strip(".,:;()¿?¡!«»\"") for p in corpus.passages for w in p.text.split() if len(w) > 3})
    rng = random.Random(seed)
    passages, documents = [], {}
    for i in range(size):
        pid = f"sintetico-{i // PASSAGES_PER_PROCEDURE:05d}"
        text = " ".join(rng.choices(vocabulary, k=WORDS_PER_PASSAGE))
        passages.append(Passage(f"{pid}#p{i}", pid, "section", "summary", "Sintético", text, text))
        documents.setdefault(pid, DocumentMeta(f"Trámite sintético {pid[-5:]}", f"https://example.org/{pid}", "2026-01-01"))
    vectors = np.random.default_rng(seed).standard_normal((size, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return passages, documents, vectors, corpus


def measure_one(size: int, runs: int, queries: int, hnsw_min_size: int) -> dict[str, object]:
    """Builds one synthetic index and times real queries against it (runs in its own process)."""
    from knowledge_base.embedders import make_embedder
    from knowledge_base.evaluation import load_questions
    from knowledge_base.index import build_index, load_index
    from knowledge_base.search import Searcher
    from knowledge_base.settings import PACKAGE_DIR, SearchSettings

    settings = SearchSettings(hnsw_min_size=hnsw_min_size)
    embedder = make_embedder(settings.embedder, settings.model)
    rss_start = _rss_mb()
    passages, documents, vectors, corpus = _synthetic_corpus(size, embedder.dim)
    questions = [q.question for q in load_questions(PACKAGE_DIR / "eval" / "dev.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build_index(passages, documents, embedder, Path(tmp), hnsw_min_size=hnsw_min_size,
                    out_of_scope=corpus.out_of_scope, rewriter=corpus.rewriter, vectors=vectors)
        build_seconds = time.perf_counter() - started
        del passages, documents, vectors
        rss_before_load = _rss_mb()
        started = time.perf_counter()
        index = load_index(Path(tmp))
        load_seconds = time.perf_counter() - started
    rss_loaded = _rss_mb()
    searcher = Searcher(index, embedder, settings)
    rng = random.Random(size)
    for q in questions[:10]:  # warm-up: caches, lazy spaCy load, OpenMP threads
        searcher.search(q)
    per_run = []
    for _ in range(runs):
        sample = rng.sample(questions, min(queries, len(questions)))
        total, embed = [], []
        for q in sample:
            t0 = time.perf_counter()
            embedder.embed_queries([q])
            t1 = time.perf_counter()
            searcher.search(q)
            t2 = time.perf_counter()
            embed.append((t1 - t0) * 1000)
            total.append((t2 - t1) * 1000)  # one full search: embedding + everything else
        per_run.append({
            "search_median_ms": statistics.median(total),
            "search_p95_ms": float(np.percentile(total, 95)),
            "embed_median_ms": statistics.median(embed),
            "embed_p95_ms": float(np.percentile(embed, 95)),
        })
    return {
        "size": size,
        "faiss": index.manifest["faiss"],
        "build_seconds": round(build_seconds, 2),
        "load_seconds": round(load_seconds, 2),
        "rss_index_mb": round(rss_loaded - rss_before_load, 1),
        "rss_after_load_mb": round(rss_loaded, 1),
        "rss_peak_mb": round(_rss_mb("VmHWM"), 1),
        "rss_start_mb": round(rss_start, 1),
        "runs": per_run,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,100000x")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one size in this process
    args = parser.parse_args(argv)
    if args.one:
        size, exact = int(args.one.rstrip("x")), args.one.endswith("x")
        from knowledge_base.settings import SearchSettings

        hnsw_min_size = size + 1 if exact else SearchSettings().hnsw_min_size
        print(json.dumps(measure_one(size, args.runs, args.queries, hnsw_min_size)))
        return 0
    print("| passages | FAISS | run | search median ms | search p95 ms | of which query embedding median / p95 ms | build s (no embedding) | load s | index RSS MB | process peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for spec in args.sizes.split(","):
        out = subprocess.run(
            [sys.executable, "-m", "bench.kb_latency", "--one", spec, "--runs", str(args.runs), "--queries", str(args.queries)],
            check=True, capture_output=True, text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        for i, run in enumerate(r["runs"], 1):
            fixed = f"{r['build_seconds']} | {r['load_seconds']} | {r['rss_index_mb']} | {r['rss_peak_mb']}" if i == 1 else " | | | "
            print(f"| {r['size']:,} | {r['faiss']} | {i} | {run['search_median_ms']:.1f} | {run['search_p95_ms']:.1f} | "
                  f"{run['embed_median_ms']:.1f} / {run['embed_p95_ms']:.1f} | {fixed} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
