"""Fixtures of the knowledge-base tests: a small copy of the real content and fake-embedder indexes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge_base.corpus import load_corpus
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.index import build_index, load_index
from knowledge_base.search import Searcher
from knowledge_base.settings import PACKAGE_DIR, SearchSettings

CONTENT = PACKAGE_DIR / "content"
# Five real procedures: enough to rank, small enough to embed instantly.
SAMPLE = (
    "pasaporte-emision",
    "documento-identidad-duplicado",
    "licencia-conducir-renovacion",
    "registro-mascotas",
    "impuesto-predial",
)


def make_settings(root: Path, **overrides: object) -> SearchSettings:
    """Settings that point every path into ``root`` (never at the shipped files)."""
    paths = {
        "content_dir": root / "content",
        "imported_dir": root / "imported",
        "synonyms_file": root / "synonyms.yml",
        "out_of_scope_file": root / "out_of_scope.yml",
        "index_dir": root / "index",
        "embedder": "fake",
    }
    paths.update(overrides)
    return SearchSettings(**paths)  # type: ignore[arg-type]


@pytest.fixture
def kb_root(tmp_path: Path) -> Path:
    """A knowledge base with five real procedures, the real rules and out-of-scope topics."""
    content = tmp_path / "content"
    content.mkdir()
    for pid in SAMPLE:
        text = (CONTENT / f"{pid}.yml").read_text(encoding="utf-8")
        # Keep related_procedures links inside the sample so that validation stays clean.
        lines = [
            line if not line.startswith("related_procedures:") else "related_procedures: []"
            for line in text.splitlines()
        ]
        (content / f"{pid}.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(PACKAGE_DIR / "synonyms.yml", tmp_path / "synonyms.yml")
    shutil.copy(PACKAGE_DIR / "out_of_scope.yml", tmp_path / "out_of_scope.yml")
    return tmp_path


@pytest.fixture
def kb_settings(kb_root: Path) -> SearchSettings:
    return make_settings(kb_root)


def build_fake(settings: SearchSettings) -> Path:
    corpus = load_corpus(settings)
    return build_index(
        corpus.passages,
        corpus.documents,
        FakeEmbedder(),
        settings.index_dir,
        hnsw_min_size=settings.hnsw_min_size,
        out_of_scope=corpus.out_of_scope,
        rewriter=corpus.rewriter,
    )


@pytest.fixture
def fake_searcher(kb_settings: SearchSettings) -> Searcher:
    build_fake(kb_settings)
    return Searcher(load_index(kb_settings.index_dir), FakeEmbedder(), kb_settings)
