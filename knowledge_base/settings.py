"""Settings of the knowledge base search, read from ``VENTANILLA_KB_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENTANILLA_KB_", extra="ignore")

    content_dir: Path = PACKAGE_DIR / "content"
    index_dir: Path = PROJECT_ROOT / "var" / "kb_index"
    # e5 | use | sentence-transformers | fake. e5 won on our development set (see README).
    embedder: str = "e5"
    # Model name or local path, for the sentence-transformers back end only.
    model: str = ""
    # Collections with at least this many passages get an HNSW index instead of exact search.
    hnsw_min_size: int = 20000
    # Weight of the normalised BM25 score added to the cosine similarity.
    lexical_weight: float = 0.15
    # Below this fused score the search abstains ("no estoy seguro").
    abstain_threshold: float = 0.86
    # Passages fetched from each signal before fusing.
    candidates: int = 50
    # Days after which an entry counts as stale in `kb validate` and `kb stats`.
    stale_after_days: int = 365
    # Follow-up questions within the procedure last talked about may score this much lower.
    followup_relief: float = 0.04
