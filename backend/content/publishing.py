"""Publishing to the search index: incremental builds, the switch after the commit, rollback.

The backend publishes, so it needs the embedder: it is loaded on first use, once per
process (never at import, e5 takes seconds and hundreds of MB). Unchanged passages
keep the vectors stored in the version being served; only new or edited ones are
embedded (``knowledge_base.index.build_index(reuse=...)``). The running action
server's ``IndexHolder`` notices the new ``CURRENT`` within a second and swaps.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from knowledge_base.cli import DATABASE_SOURCE
from knowledge_base.corpus import corpus_from_procedures
from knowledge_base.embedders import Embedder
from knowledge_base.index import (
    LoadedIndex,
    activate_version,
    build_index,
    current_version,
    discard_version,
    load_index,
    rollback,
)
from knowledge_base.schema import Procedure
from knowledge_base.settings import SearchSettings


@dataclass(frozen=True)
class PreparedIndex:
    version: str
    embedded: int
    reused: int
    seconds: float


class Publisher:
    """Builds index versions from published content; one per process (``get_publisher``)."""

    def __init__(self, settings: SearchSettings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or SearchSettings()
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._thread_lock = threading.Lock()
        self._loaded: LoadedIndex | None = None

    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    from knowledge_base.embedders import make_embedder

                    self._embedder = make_embedder(
                        self.settings.embedder, self.settings.model, threads=self.settings.build_threads
                    )
        return self._embedder

    def served(self) -> LoadedIndex | None:
        """The version ``CURRENT`` names, loaded (and kept while it stays current)."""
        version = current_version(self.settings.index_dir)
        if version is None:
            return None
        if self._loaded is None or self._loaded.version != version:
            self._loaded = load_index(self.settings.index_dir, version)
        return self._loaded

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialises publishes in this process and across processes sharing the index folder."""
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self.settings.index_dir / ".publish.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def prepare(self, published: dict[str, dict[str, Any]]) -> PreparedIndex:
        """Builds (not activates) a version with exactly ``published`` (procedure id -> data)."""
        started = time.perf_counter()
        procedures = [Procedure.model_validate(published[pid]) for pid in sorted(published)]
        corpus = corpus_from_procedures(procedures, self.settings)
        embedder = self.embedder()
        path = build_index(
            corpus.passages,
            corpus.documents,
            embedder,
            self.settings.index_dir,
            hnsw_min_size=self.settings.hnsw_min_size,
            out_of_scope=corpus.out_of_scope,
            rewriter=corpus.rewriter,
            source_fingerprint=DATABASE_SOURCE,
            model=self.settings.model,
            reuse=self.served(),
            activate=False,
        )
        manifest = json.loads((path / "manifest.json").read_text())
        return PreparedIndex(
            path.name,
            int(manifest.get("embedded_passages", 0)),
            int(manifest.get("reused_passages", 0)),
            round(time.perf_counter() - started, 3),
        )

    def activate(self, prepared: PreparedIndex) -> None:
        activate_version(self.settings.index_dir, prepared.version)

    def discard(self, prepared: PreparedIndex) -> None:
        discard_version(self.settings.index_dir, prepared.version)

    def rebuild(self, published: dict[str, dict[str, Any]]) -> PreparedIndex:
        """Builds and activates at once (after a sync from files, or on demand)."""
        with self.lock():
            prepared = self.prepare(published)
            self.activate(prepared)
            return prepared

    def rollback(self) -> str:
        with self.lock():
            return rollback(self.settings.index_dir)


_publisher: Publisher | None = None
_publisher_lock = threading.Lock()


def get_publisher() -> Publisher:
    """The process-wide publisher (settings from ``VENTANILLA_KB_*``); nothing heavy happens here."""
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = Publisher()
        return _publisher
