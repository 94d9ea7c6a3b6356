"""``SerialEmbedder``: several threads share one embedder, one embedding at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from knowledge_base.embedders.base import Vectors
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.embedders.serial import SerialEmbedder


class Overlaps:
    """An embedder that notes how many calls are inside it at once."""

    name = "overlaps"
    dim = 4

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self._count = threading.Lock()

    def _embed(self, texts: Sequence[str]) -> Vectors:
        with self._count:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.005)  # gives another thread the chance to come in, if it may
        with self._count:
            self.active -= 1
        return np.ones((len(texts), self.dim), dtype=np.float32)

    embed_queries = _embed
    embed_passages = _embed


def test_calls_from_several_threads_never_overlap() -> None:
    inner = Overlaps()
    serial = SerialEmbedder(inner)

    def work() -> None:
        for _ in range(5):
            serial.embed_queries(["hola"])
            serial.embed_passages(["chau"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inner.peak == 1


def test_same_name_dimension_and_vectors_as_the_wrapped_embedder() -> None:
    inner = FakeEmbedder()
    serial = SerialEmbedder(inner)
    assert (serial.name, serial.dim) == (inner.name, inner.dim)
    np.testing.assert_array_equal(serial.embed_queries(["requisitos"]), inner.embed_queries(["requisitos"]))
