"""A small deterministic embedder for unit tests: hashed character trigrams.

Not a toy that always agrees: texts that share words get similar vectors and
unrelated texts do not, so tests of ranking and abstention can still fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

import textnorm
from knowledge_base.embedders.base import Vectors, normalize_rows


class FakeEmbedder:
    name = "fake"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in textnorm.plain(text).split():
            padded = f" {word} "
            for i in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
                vec[int.from_bytes(digest, "little") % self.dim] += 1.0
        return vec

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(np.array([self._vector(t) for t in texts]).reshape(len(texts), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self.embed_queries(texts)
