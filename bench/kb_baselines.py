"""Our knowledge-base search against two baselines, on the same questions, in the same run.

Issue 14 asks how the hybrid search compares with what a Rasa developer would build
without it, and with its own lexical half alone:

* **kb**: the shipped ``Searcher`` (e5 + BM25, per-procedure aggregation, out-of-scope
  topics, abstention) over the index in ``--index-dir``, with the query-embedding
  cache off (every question is embedded) and one engine thread, as the action server runs it.
* **rasa**: Rasa's own FAQ approach. The NLU data is generated from the same content into
  a scratch folder: a retrieval intent ``faq`` with one sub-intent ``faq/<procedure>`` per
  procedure, whose examples are that procedure's FAQ questions, their paraphrases, its
  title and its keywords; an ``out_of_scope`` intent from ``out_of_scope.yml`` (topic and
  keywords); one response ``utter_faq/<procedure>`` each. A small NLU config (whitespace
  tokens, word and character n-gram counts, DIET for the two intents, a ResponseSelector
  for ``faq``, the FallbackClassifier) is trained with ``.venv-rasa/bin/rasa train nlu``
  and the trained model parses each question (``bench/kb_baselines_rasa.py``, Rasa's env).
  Rasa "answers" when the intent is ``faq`` (not ``out_of_scope``, not ``nlu_fallback``);
  its guess is the ResponseSelector's sub-intent.
* **lexical**: BM25 alone (``knowledge_base/lexical.py``) over the same index's passages,
  after the same query rewriting; a procedure's score is its best passage's; it abstains
  only when no question term is in the index.

Metrics over the answerable questions: top-1 (an abstention is a miss, as in ``kb eval``)
and top-1 of the best guess with abstention ignored; over the must-abstain questions:
the share abstained on. Latency per question: wall median / p95 and CPU median (one
process, one thread), for ``--runs`` alternated runs of all three; quality is the same
every run (checked). The trained model is cached by the hash of the generated files in
``var/kb-baseline/``.

    .venv/bin/python -m bench.kb_baselines --index-dir var/test-kb-index            # dev, 3 runs
    .venv/bin/python -m bench.kb_baselines --index-dir var/test-kb-index --train-only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge_base.evaluation import Question, load_questions
from knowledge_base.index import LoadedIndex
from knowledge_base.settings import PACKAGE_DIR, PROJECT_ROOT, SearchSettings

WORK_DIR = PROJECT_ROOT / "var" / "kb-baseline"
RASA = PROJECT_ROOT / ".venv-rasa" / "bin"
WARM_UP = 10

RASA_CONFIG = {
    "recipe": "default.v1",
    "language": "es",
    "assistant_id": "kb-baseline",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "CountVectorsFeaturizer", "strip_accents": "unicode"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 40, "entity_recognition": False, "random_seed": 42},
        {"name": "ResponseSelector", "retrieval_intent": "faq", "epochs": 100, "random_seed": 42},
        {"name": "FallbackClassifier", "threshold": 0.3},
    ],
    "policies": [],
}


@dataclass(frozen=True)
class Answer:
    """One system's reply to one question: its best guess and whether it would answer."""

    guess: str | None
    answered: bool
    ms: float
    cpu_ms: float


def _examples(texts: list[str]) -> str:
    seen: dict[str, None] = {}
    for text in texts:
        clean = " ".join(text.split())
        if clean and clean.casefold() not in {s.casefold() for s in seen}:
            seen[clean] = None
    return "".join(f"- {text}\n" for text in seen)


def write_rasa_project(directory: Path, settings: SearchSettings) -> str:
    """Writes nlu.yml, domain.yml and config.yml from the content; returns their hash."""
    from knowledge_base.content import load_content
    from knowledge_base.out_of_scope import load_topics

    procedures, _problems = load_content(settings.content_dir)
    topics, _ = load_topics(settings.out_of_scope_file)
    nlu: list[dict[str, str]] = []
    responses: dict[str, list[dict[str, str]]] = {}
    for p in procedures:
        texts = [p.title, *p.keywords]
        for faq in p.faqs:
            texts += [faq.question, *faq.paraphrases]
        nlu.append({"intent": f"faq/{p.id}", "examples": _examples(texts)})
        responses[f"utter_faq/{p.id}"] = [{"text": p.summary}]
    nlu.append(
        {
            "intent": "out_of_scope",
            "examples": _examples([t for topic in topics for t in (topic.topic, *topic.keywords)]),
        }
    )
    files = {
        "nlu.yml": yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False),
        "domain.yml": yaml.safe_dump(
            {"version": "3.1", "intents": ["faq", "out_of_scope"], "responses": responses},
            allow_unicode=True,
            sort_keys=False,
        ),
        "config.yml": yaml.safe_dump(RASA_CONFIG, allow_unicode=True, sort_keys=False),
    }
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
        digest.update(name.encode() + b"\0" + text.encode())
    return digest.hexdigest()[:16]


def trained_rasa_model(settings: SearchSettings) -> Path:
    """The FAQ model for the current content, trained now unless one with the same input exists."""
    project = WORK_DIR / "project"
    name = f"faq-{write_rasa_project(project, settings)}"
    model = WORK_DIR / "models" / f"{name}.tar.gz"
    if model.exists():
        return model
    log = WORK_DIR / f"{name}.train.log"
    started = time.perf_counter()
    with log.open("w") as out:
        subprocess.run(
            [
                str(RASA / "rasa"),
                "train",
                "nlu",
                "--config",
                str(project / "config.yml"),
                "--nlu",
                str(project / "nlu.yml"),
                "--domain",
                str(project / "domain.yml"),
                "--out",
                str(WORK_DIR / "models"),
                "--fixed-model-name",
                name,
            ],
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    print(f"trained {model.name} in {time.perf_counter() - started:.0f} s (log {log})", file=sys.stderr)
    return model


def run_rasa(model: Path, questions: list[Question]) -> list[Answer]:
    """Parses every question with the trained model in Rasa's own Python."""
    questions_file = WORK_DIR / "questions.jsonl"
    questions_file.write_text("".join(json.dumps({"question": q.question}) + "\n" for q in questions), "utf-8")
    out = subprocess.run(
        [str(RASA / "python"), str(Path(__file__).with_name("kb_baselines_rasa.py")), str(model), str(questions_file)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(rows) != len(questions):
        raise RuntimeError(f"Rasa parsed {len(rows)} of {len(questions)} questions")
    return [Answer(r["procedure"], r["intent"] == "faq", r["ms"], r["cpu_ms"]) for r in rows]


def _timed(questions: list[Question], answer: Callable[[str], tuple[str | None, bool]]) -> list[Answer]:
    for q in questions[:WARM_UP]:
        answer(q.question)
    answers = []
    for q in questions:
        wall, cpu = time.perf_counter(), time.process_time()
        guess, answered = answer(q.question)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        answers.append(Answer(guess, answered, wall * 1000, cpu * 1000))
    return answers


def lexical_answerer(index: LoadedIndex) -> Callable[[str], tuple[str | None, bool]]:
    """BM25 alone: the procedure of the best-scoring passage; abstains when no term matches."""
    from knowledge_base.lexical import analyze

    order = np.concatenate([index.by_procedure[pid] for pid in index.procedure_ids])
    starts = np.cumsum([0] + [len(index.by_procedure[pid]) for pid in index.procedure_ids[:-1]])

    def answer(question: str) -> tuple[str | None, bool]:
        scores = index.lexical.scores(analyze(index.rewriter.rewrite(question)))
        best = np.maximum.reduceat(scores[order], starts)
        top = int(np.argmax(best))
        return (index.procedure_ids[top], True) if best[top] > 0 else (None, False)

    return answer


def kb_answerer(index_dir: Path) -> Callable[[str], tuple[str | None, bool]]:
    """The shipped search, as the action server runs it, with the embedding cache off."""
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import load_index
    from knowledge_base.search import Searcher

    settings = SearchSettings(index_dir=index_dir, query_cache_size=0)
    index = load_index(index_dir)
    searcher = Searcher(index, make_embedder(str(index.manifest["embedder"]), threads=settings.threads), settings)

    def answer(question: str) -> tuple[str | None, bool]:
        result = searcher.search(question, top_k=1)
        return (result.closest[0].procedure_id if result.closest else None), not result.abstained

    return answer


def metrics(questions: list[Question], answers: list[Answer]) -> dict[str, float]:
    answerable = [(q, a) for q, a in zip(questions, answers, strict=True) if q.expected is not None]
    null = [a for q, a in zip(questions, answers, strict=True) if q.expected is None]
    ms = [a.ms for a in answers]
    return {
        "top1": sum(a.answered and a.guess == q.expected for q, a in answerable) / len(answerable),
        "top1_no_abstention": sum(a.guess == q.expected for q, a in answerable) / len(answerable),
        "abstain_on_null": sum(not a.answered for a in null) / len(null) if null else float("nan"),
        "median_ms": statistics.median(ms),
        "p95_ms": float(np.percentile(ms, 95)),
        "cpu_median_ms": statistics.median(a.cpu_ms for a in answers),
        "load_average": os.getloadavg()[0],
    }


def _per_run(runs: list[dict[str, float]], key: str) -> str:
    """The median over runs, then each run's value in brackets."""
    values = [r[key] for r in runs]
    return f"{statistics.median(values):.1f} ({', '.join(f'{v:.1f}' for v in values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=SearchSettings().index_dir)
    parser.add_argument("--questions", type=Path, default=PACKAGE_DIR / "eval" / "dev.jsonl")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train-only", action="store_true", help="train (or find) the Rasa FAQ model and stop")
    args = parser.parse_args(argv)
    model = trained_rasa_model(SearchSettings())
    if args.train_only:
        print(model)
        return 0
    from knowledge_base.index import load_index

    questions = load_questions(args.questions)
    kb, lexical = kb_answerer(args.index_dir), lexical_answerer(load_index(args.index_dir))
    systems: dict[str, Callable[[], list[Answer]]] = {
        "kb": lambda: _timed(questions, kb),
        "lexical": lambda: _timed(questions, lexical),
        "rasa": lambda: run_rasa(model, questions),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in systems}
    guesses: dict[str, list[Answer]] = {}
    for _ in range(args.runs):
        for name, run in systems.items():
            answers = run()
            first = guesses.setdefault(name, answers)
            if [(a.guess, a.answered) for a in answers] != [(a.guess, a.answered) for a in first]:
                print(f"warning: {name} answered differently between runs", file=sys.stderr)
            results[name].append(metrics(questions, answers))
    print(
        f"questions: {args.questions.name} ({len(questions)}, {sum(q.expected is None for q in questions)} must-abstain); "
        f"index {args.index_dir}; rasa model {model.name}"
    )
    print(
        "| system | top-1 | top-1 without abstention | abstain on null | "
        "median ms (per run) | p95 ms (per run) | CPU median ms | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        first = runs[0]
        print(
            f"| {name} | {first['top1']:.3f} | {first['top1_no_abstention']:.3f} | {first['abstain_on_null']:.3f} | "
            f"{_per_run(runs, 'median_ms')} | {_per_run(runs, 'p95_ms')} | "
            f"{statistics.median(r['cpu_median_ms'] for r in runs):.1f} | "
            f"{min(r['load_average'] for r in runs):.1f}-{max(r['load_average'] for r in runs):.1f} |"
        )
    print(json.dumps(results), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
