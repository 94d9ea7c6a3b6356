"""Hybrid search: FAISS cosine + BM25 on lemmas, fused, aggregated per procedure, with abstention.

How one question is scored (the knobs are ``settings.Tuning``):

1. The question is rewritten with the index's rules (``rewrite.py``): "q" -> "que",
   "brevete" -> "brevete (licencia de conducir)".
2. Candidate procedures: those owning one of the ``candidates`` best passages by
   cosine similarity (FAISS, exact or HNSW) or by BM25.
3. Every passage of a candidate procedure gets ``cosine + lexical_weight * bm25``,
   where bm25 is divided by the best score the question's terms could reach, so
   it lies in [0, 1].
4. A procedure's score is a soft maximum of its passages' scores
   (``m + T * log(sum(exp((s - m) / T)))``): the best passage counts most, and a
   procedure with several relevant passages beats one that merely mentions the
   topic once (a FAQ of the passport that says "if you lost your ID card, see the
   duplicate procedure" must not beat the duplicate procedure itself).
5. Confidence = best procedure score minus the question's best similarity to
   the out-of-scope topics. Below ``abstain_threshold`` the search abstains: it
   returns no hits, only ``closest`` (to offer as buttons, never as an answer).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from knowledge_base.aspects import ASPECTS, aspect_of
from knowledge_base.embedders import Embedder
from knowledge_base.index import DocumentMeta, LoadedIndex, current_version, load_index
from knowledge_base.lexical import analyze
from knowledge_base.passages import Passage
from knowledge_base.settings import SearchSettings, Tuning

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    procedure_id: str
    document: DocumentMeta
    passage: Passage  # the most relevant passage of that procedure
    score: float  # the procedure's aggregated score
    semantic: float  # cosine similarity of that passage
    lexical: float  # its normalised BM25 score, in [0, 1]


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]  # best first; empty when the search abstained
    abstained: bool
    closest: list[Hit] = field(default_factory=list)  # best guesses, also when abstaining
    index_version: str = ""
    confidence: float = 0.0  # best score minus the out-of-scope similarity; compared to the threshold
    out_of_scope: float = 0.0  # best similarity to an out-of-scope topic
    rewritten: str = ""  # the question as searched


def limit_search_threads(threads: int) -> None:
    """Caps FAISS's OpenMP and numpy's BLAS threads in this process.

    One question searches small arrays, where extra threads gain nothing; on a machine
    shared with other busy processes they spin-wait and turned a 10k-passage search
    from ~1 ms into ~50 ms (bench/RESULTS.md).
    """
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(threads)
    threadpool_limits(limits=threads, user_api="blas")


class Searcher:
    """Answers queries over one loaded index. Immutable: safe to share across threads."""

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        settings: SearchSettings,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        if index.manifest.get("embedder") != embedder.name:
            raise ValueError(
                f"El índice se construyó con '{index.manifest.get('embedder')}' "
                f"y la búsqueda usa '{embedder.name}': reconstruya con 'kb build'."
            )
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.tuning: Tuning = settings.tuning(embedder.name)
        # Told the seconds of each stage of every search ("embedding", "index_search"): the
        # action server's metrics break a procedure answer's time down with it.
        self._observe = observe
        if settings.search_threads > 0:
            limit_search_threads(settings.search_threads)
        # The question's embedding is most of a search's time. The bot searches a follow-up
        # twice (overall and within the last procedure), and citizens repeat short questions
        # ("horarios", "requisitos"): a bounded cache spares those embeddings. 0 turns it off.
        self._embed_query: Callable[[str], NDArray[np.float32]] = (
            lru_cache(maxsize=settings.query_cache_size)(self._embed_uncached)
            if settings.query_cache_size > 0
            else self._embed_uncached
        )

    def _embed_uncached(self, text: str) -> NDArray[np.float32]:
        vector = np.asarray(self.embedder.embed_queries([text])[0], dtype=np.float32)
        vector.flags.writeable = False  # shared by every search that hits the cache
        return vector

    def search(
        self, query: str, *, top_k: int = 3, within: str | None = None, threshold: float | None = None
    ) -> SearchResult:
        """Top procedures for ``query``; ``within`` scores one procedure only (follow-ups)."""
        threshold = self.tuning.abstain_threshold if threshold is None else threshold
        version = self.index.version
        if not query.strip():
            return SearchResult(query, [], True, [], version, rewritten=query)
        started = time.perf_counter()
        rewritten = self.index.rewriter.rewrite(query)
        embedding_started = time.perf_counter()
        qvec = self._embed_query(rewritten)
        embedded = time.perf_counter()
        lexical = self._lexical_scores(analyze(rewritten))
        aspect = aspect_of(rewritten)
        if within is not None:
            procedures = [within] if within in self.index.by_procedure else []
        else:
            procedures = self._candidate_procedures(qvec, lexical)
        ranked = self._rank(procedures, qvec, lexical, top_k, ASPECTS.index(aspect) if aspect else None)
        negatives = self.index.out_of_scope
        out_of_scope = float((negatives @ qvec).max()) if len(negatives) else 0.0
        confidence = (ranked[0].score - out_of_scope) if ranked else float("-inf")
        abstained = not ranked or confidence < threshold
        closest = ranked
        if self._observe is not None:
            # The query's embedding (about 0 when cached) apart from everything else of the search.
            self._observe("embedding", embedded - embedding_started)
            self._observe("index_search", (embedding_started - started) + (time.perf_counter() - embedded))
        return SearchResult(
            query, [] if abstained else closest, abstained, closest, version, confidence, out_of_scope, rewritten
        )

    def _lexical_scores(self, terms: list[str]) -> NDArray[np.float32] | None:
        """BM25 of every passage divided by the best score these terms could reach (None: no terms)."""
        lexical = self.index.lexical
        ceiling = float(sum(lexical.max_weight(t) for t in set(terms)))
        if ceiling <= 0:
            return None
        return lexical.scores(terms) / np.float32(ceiling)

    def _candidate_procedures(self, qvec: NDArray[np.float32], lexical: NDArray[np.float32] | None) -> list[str]:
        k = min(self.settings.candidates, self.index.vectors.ntotal)
        _, ids = self.index.vectors.search(qvec[None, :], k)
        found = [ids[0][ids[0] >= 0]]
        if lexical is not None:
            # Only passages holding a question term can be lexical candidates: partitioning
            # those few instead of the whole collection keeps this step flat at 100k passages.
            matched = np.flatnonzero(lexical)
            if len(matched) > k:
                matched = matched[np.argpartition(-lexical[matched], k - 1)[:k]]
            found.append(matched)
        positions = np.unique(self.index.procedure_of[np.concatenate(found)])
        return [self.index.procedure_ids[p] for p in positions]

    def _rank(
        self,
        procedures: list[str],
        qvec: NDArray[np.float32],
        lexical: NDArray[np.float32] | None,
        top_k: int,
        aspect: int | None,
    ) -> list[Hit]:
        """Scores every passage of the candidate procedures at once; the ``top_k`` best procedures.

        The passage shown for a procedure is its best one, where passages about the
        question's aspect get ``aspect_bonus``; the procedure's score ignores the bonus.
        """
        if not procedures:
            return []
        groups = [self.index.by_procedure[pid] for pid in procedures]
        sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        ids = np.concatenate(groups)
        semantic = self.index.matrix[ids] @ qvec
        lex = lexical[ids] if lexical is not None else np.zeros(len(ids), np.float32)
        fused = semantic + np.float32(self.tuning.lexical_weight) * lex
        best = np.maximum.reduceat(fused, starts)
        temperature = self.tuning.temperature
        if temperature > 0:
            spread = np.exp((fused - np.repeat(best, sizes)) / temperature)
            scores = best + temperature * np.log(np.add.reduceat(spread, starts))
        else:
            scores = best
        hits = []
        for g in np.argsort(-scores, kind="stable")[:top_k]:
            start, stop = int(starts[g]), int(starts[g]) + int(sizes[g])
            preference = fused[start:stop]
            if aspect is not None and self.tuning.aspect_bonus:
                preference = preference + self.tuning.aspect_bonus * (self.index.aspects[ids[start:stop]] == aspect)
            j = start + int(np.argmax(preference))
            pid = procedures[int(g)]
            hits.append(
                Hit(
                    pid,
                    self.index.documents[pid],
                    self.index.passages[int(ids[j])],
                    float(scores[g]),
                    float(semantic[j]),
                    float(lex[j]),
                )
            )
        return hits


class IndexHolder:
    """Serves the current index version and switches to a new one without a restart.

    ``searcher()`` checks the ``CURRENT`` pointer at most once per ``check_every``
    seconds. A new version is loaded completely (outside the lock that guards the
    swap) before it replaces the old one; requests in flight keep the ``Searcher``
    they already hold, so they finish on the old version. A version that fails to
    load is remembered and not retried, and the old one keeps serving.
    """

    def __init__(self, settings: SearchSettings, embedder: Embedder, check_every: float = 1.0) -> None:
        # Set by whoever wants each search's stage times (the action server's metrics); every
        # searcher this holder loads reports to it.
        self.stage_observer: Callable[[str, float], None] | None = None
        self._settings = settings
        self._embedder = embedder
        self._check_every = check_every
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._checked_at = float("-inf")
        self._failed: str | None = None

    @property
    def index_dir(self) -> Path:
        return self._settings.index_dir

    def _observe_stage(self, stage: str, seconds: float) -> None:
        observer = self.stage_observer
        if observer is not None:
            observer(stage, seconds)

    def searcher(self) -> Searcher:
        current = self._searcher
        now = time.monotonic()
        if current is not None and now - self._checked_at < self._check_every:
            return current
        if not self._lock.acquire(blocking=current is None):
            return current  # type: ignore[return-value]  # another thread is checking; serve what we have
        try:
            self._checked_at = time.monotonic()
            version = current_version(self.index_dir)
            serving = self._searcher
            if serving is not None and (version is None or version == serving.index.version or version == self._failed):
                return serving
            try:
                fresh = Searcher(
                    load_index(self.index_dir, version), self._embedder, self._settings, observe=self._observe_stage
                )
            except Exception:
                if serving is None:
                    raise
                self._failed = version
                logger.exception(
                    "kb index version %s could not be loaded; still serving %s", version, serving.index.version
                )
                return serving
            if serving is not None:
                logger.info("kb index switched from %s to %s", serving.index.version, fresh.index.version)
            self._searcher = fresh
            return fresh
        finally:
            self._lock.release()
