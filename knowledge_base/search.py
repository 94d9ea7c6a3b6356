"""Hybrid search: FAISS cosine + BM25 on lemmas, fused, grouped per procedure, with abstention."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge_base.embedders import Embedder
from knowledge_base.index import DocumentMeta, LoadedIndex, current_version, load_index, passage_vectors
from knowledge_base.lexical import analyze
from knowledge_base.passages import Passage
from knowledge_base.settings import SearchSettings


@dataclass(frozen=True)
class Hit:
    procedure_id: str
    document: DocumentMeta
    passage: Passage  # the most relevant passage of that procedure
    score: float  # fused score of that passage
    semantic: float
    lexical: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]  # best first; empty when the search abstained
    abstained: bool
    closest: list[Hit] = field(default_factory=list)  # best guesses, also when abstaining
    index_version: str = ""


class Searcher:
    """Answers queries over one loaded index. Immutable: safe to share across threads."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: SearchSettings) -> None:
        if index.manifest.get("embedder") != embedder.name:
            raise ValueError(
                f"El índice se construyó con '{index.manifest.get('embedder')}' "
                f"y la búsqueda usa '{embedder.name}': reconstruya con 'kb build'."
            )
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def search(self, query: str, *, top_k: int = 3, within: str | None = None, threshold: float | None = None) -> SearchResult:
        """Top procedures for ``query``; ``within`` restricts to one procedure (follow-ups)."""
        threshold = self.settings.abstain_threshold if threshold is None else threshold
        qvec = self.embedder.embed_queries([query])
        terms = analyze(query)
        lexical_all = self.index.lexical.scores(terms)
        ceiling = self._lexical_ceiling(terms)
        if within is not None:
            ids = self.index.by_procedure.get(within, [])
            if not ids:
                return SearchResult(query, [], True, [], self.index.version)
            semantic = passage_vectors(self.index, ids) @ qvec[0]
            candidates = dict(zip(ids, semantic.tolist()))
        else:
            candidates = self._semantic_candidates(qvec)
            for i in np.argsort(-lexical_all)[: self.settings.candidates]:
                if lexical_all[i] > 0 and int(i) not in candidates:
                    candidates[int(i)] = float(passage_vectors(self.index, [int(i)])[0] @ qvec[0])
        best: dict[str, Hit] = {}
        for i, sem in candidates.items():
            lex = float(lexical_all[i] / ceiling) if ceiling > 0 else 0.0
            score = sem + self.settings.lexical_weight * lex
            passage = self.index.passages[i]
            current = best.get(passage.procedure_id)
            if current is None or score > current.score:
                best[passage.procedure_id] = Hit(
                    passage.procedure_id,
                    self.index.documents[passage.procedure_id],
                    passage,
                    score,
                    sem,
                    lex,
                )
        ranked = sorted(best.values(), key=lambda h: h.score, reverse=True)[:top_k]
        abstained = not ranked or ranked[0].score < threshold
        return SearchResult(query, [] if abstained else ranked, abstained, ranked, self.index.version)

    def _semantic_candidates(self, qvec: np.ndarray) -> dict[int, float]:
        k = min(self.settings.candidates, self.index.vectors.ntotal)
        scores, ids = self.index.vectors.search(qvec, k)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def _lexical_ceiling(self, terms: list[str]) -> float:
        """The best BM25 score any passage could reach for these terms (for normalising)."""
        return float(sum(self.index.lexical.max_weight(t) for t in set(terms)))


class IndexHolder:
    """Serves the current index version and switches to a new one without a restart.

    Every ``searcher()`` call checks the ``CURRENT`` pointer at most once per
    ``check_every`` seconds. A new version is loaded fully before it replaces the
    old one, so requests in flight finish on the searcher they started with.
    """

    def __init__(self, settings: SearchSettings, embedder: Embedder, check_every: float = 1.0) -> None:
        self._settings = settings
        self._embedder = embedder
        self._check_every = check_every
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._checked_at = 0.0

    @property
    def index_dir(self) -> Path:
        return self._settings.index_dir

    def searcher(self) -> Searcher:
        now = time.monotonic()
        current = self._searcher
        if current is not None and now - self._checked_at < self._check_every:
            return current
        with self._lock:
            self._checked_at = now
            version = current_version(self.index_dir)
            if self._searcher is None or (version and version != self._searcher.index.version):
                try:
                    self._searcher = Searcher(load_index(self.index_dir, version), self._embedder, self._settings)
                except Exception:
                    if self._searcher is None:
                        raise
                    # A broken new version must not take down the one being served.
            return self._searcher
