"""Versioned, atomic index builds: a build that dies leaves the served version untouched."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from knowledge_base import index as index_module
from knowledge_base.corpus import load_corpus
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.index import KEEP_VERSIONS, build_index, current_manifest, current_version, load_index
from knowledge_base.search import Searcher
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake


class ExplodingEmbedder(FakeEmbedder):
    """Embeds normally until told to fail (the machine dies mid-build)."""

    def __init__(self) -> None:
        super().__init__()
        self.explode = False

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        if self.explode:
            raise RuntimeError("corte de luz")
        return super().embed_passages(texts)


def _build(settings: SearchSettings, embedder: FakeEmbedder | None = None, **kwargs: object) -> Path:
    corpus = load_corpus(settings)
    return build_index(
        corpus.passages,
        corpus.documents,
        embedder or FakeEmbedder(),
        settings.index_dir,
        hnsw_min_size=kwargs.pop("hnsw_min_size", settings.hnsw_min_size),  # type: ignore[arg-type]
        out_of_scope=corpus.out_of_scope,
        rewriter=corpus.rewriter,
        **kwargs,  # type: ignore[arg-type]
    )


def test_build_writes_a_complete_version_and_switches_current(kb_settings: SearchSettings) -> None:
    path = build_fake(kb_settings)
    assert current_version(kb_settings.index_dir) == path.name
    manifest = current_manifest(kb_settings.index_dir)
    assert manifest is not None
    assert manifest["embedder"] == "fake" and manifest["faiss"] == "IndexFlatIP"
    assert manifest["documents"] == 5 and manifest["out_of_scope_topics"] >= 10
    loaded = load_index(kb_settings.index_dir)
    assert loaded.matrix.shape == (manifest["passages"], FakeEmbedder().dim)
    assert sorted(loaded.by_procedure) == sorted(loaded.documents)
    assert not list(kb_settings.index_dir.glob(".tmp-*"))


@pytest.mark.parametrize("where", ["embedding", "lexical"])
def test_a_crash_mid_build_leaves_current_on_the_old_version(
    kb_settings: SearchSettings, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    old = build_fake(kb_settings).name
    embedder = ExplodingEmbedder()
    if where == "embedding":
        embedder.explode = True
    else:  # vectors already written, then the lexical index fails

        def broken_save(self, directory):  # type: ignore[no-untyped-def]
            (directory / "bm25.npz").write_bytes(b"half")
            raise OSError("disco lleno")

        monkeypatch.setattr(index_module.Bm25Index, "save", broken_save)
    with pytest.raises((RuntimeError, OSError)):
        _build(kb_settings, embedder)
    assert current_version(kb_settings.index_dir) == old
    assert [p.name for p in kb_settings.index_dir.glob("v-*")] == [old]
    assert not list(kb_settings.index_dir.glob(".tmp-*"))
    assert load_index(kb_settings.index_dir).version == old


def test_leftovers_of_a_killed_build_are_cleaned_later(kb_settings: SearchSettings) -> None:
    kb_settings.index_dir.mkdir(parents=True)
    dead = kb_settings.index_dir / ".tmp-v-20200101T000000-dead00"
    dead.mkdir()
    (dead / "vectors.faiss").write_bytes(b"partial")
    long_ago = time.time() - index_module.STALE_TMP_SECONDS - 60
    os.utime(dead, (long_ago, long_ago))
    running = kb_settings.index_dir / ".tmp-v-20990101T000000-busy00"  # another build in progress right now
    running.mkdir()
    build_fake(kb_settings)
    assert not dead.exists()
    assert running.exists()


def test_old_versions_are_pruned(kb_settings: SearchSettings) -> None:
    built = [build_fake(kb_settings).name for _ in range(KEEP_VERSIONS + 2)]
    remaining = sorted(p.name for p in kb_settings.index_dir.glob("v-*"))
    assert remaining == sorted(built[-KEEP_VERSIONS:])
    assert current_version(kb_settings.index_dir) == built[-1]


def test_hnsw_above_the_configured_size_finds_the_same_answers(kb_settings: SearchSettings, tmp_path: Path) -> None:
    flat_settings = kb_settings
    hnsw_settings = kb_settings.model_copy(update={"index_dir": tmp_path / "hnsw"})
    _build(flat_settings)
    _build(hnsw_settings, hnsw_min_size=10)
    assert current_manifest(hnsw_settings.index_dir)["faiss"] == "IndexHNSWFlat"  # type: ignore[index]
    flat = Searcher(load_index(flat_settings.index_dir), FakeEmbedder(), flat_settings)
    hnsw = Searcher(load_index(hnsw_settings.index_dir), FakeEmbedder(), hnsw_settings)
    assert hnsw.index.matrix.shape == flat.index.matrix.shape
    for question in ("me robaron la cedula", "vacuna del perro", "pagar el predial", "pasaporte para un menor"):
        a, b = flat.search(question), hnsw.search(question)
        assert [h.procedure_id for h in a.closest] == [h.procedure_id for h in b.closest]
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)


def test_empty_or_orphan_passages_are_refused(kb_settings: SearchSettings) -> None:
    corpus = load_corpus(kb_settings)
    with pytest.raises(ValueError, match="No hay pasajes"):
        build_index([], {}, FakeEmbedder(), kb_settings.index_dir, hnsw_min_size=100)
    with pytest.raises(ValueError, match="sin documento"):
        build_index(corpus.passages, {}, FakeEmbedder(), kb_settings.index_dir, hnsw_min_size=100)
    assert current_version(kb_settings.index_dir) is None


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="kb build"):
        load_index(tmp_path / "nada")
