"""Building, storing and loading a search index, atomically and by version.

Layout under the index directory::

    CURRENT                 name of the version being served (replaced atomically)
    v-<utc time>-<rand>/    manifest.json, passages.jsonl, documents.json,
                            vectors.faiss, bm25.npz, bm25_terms.json

A build writes a new version directory completely, then switches ``CURRENT`` with
``os.replace``; readers never see a half-written index, and the action server can
pick the new version up while it serves requests from the old one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

from knowledge_base.embedders import Embedder
from knowledge_base.lexical import Bm25Index, analyze
from knowledge_base.passages import Passage

CURRENT = "CURRENT"
KEEP_VERSIONS = 3


@dataclass(frozen=True)
class DocumentMeta:
    """What the bot cites for a procedure (or an imported document)."""

    title: str
    source_url: str
    last_reviewed: str


@dataclass
class LoadedIndex:
    version: str
    manifest: dict[str, object]
    passages: list[Passage]
    documents: dict[str, DocumentMeta]
    vectors: faiss.Index
    lexical: Bm25Index
    by_procedure: dict[str, list[int]]


def _new_faiss_index(dim: int, size: int, hnsw_min_size: int) -> faiss.Index:
    if size >= hnsw_min_size:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 96
        return index
    return faiss.IndexFlatIP(dim)


def build_index(
    passages: list[Passage],
    documents: dict[str, DocumentMeta],
    embedder: Embedder,
    index_dir: Path,
    *,
    hnsw_min_size: int,
    progress: Callable[[str], None] = lambda _msg: None,
    source_fingerprint: str = "",
) -> Path:
    """Embeds and indexes ``passages`` into a new version and makes it current."""
    if not passages:
        raise ValueError("No hay pasajes para indexar.")
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    version = f"v-{stamp}-{secrets.token_hex(3)}"
    tmp = index_dir / f".tmp-{version}"
    tmp.mkdir()
    try:
        started = time.perf_counter()
        progress(f"Calculando embeddings de {len(passages)} pasajes con '{embedder.name}'...")
        vectors = embedder.embed_passages([p.embed_text for p in passages])
        index = _new_faiss_index(embedder.dim, len(passages), hnsw_min_size)
        index.add(vectors)
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        progress("Construyendo el índice léxico...")
        Bm25Index.build(analyze(p.embed_text) for p in passages).save(tmp)
        with (tmp / "passages.jsonl").open("w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        (tmp / "documents.json").write_text(
            json.dumps({k: vars(v) for k, v in documents.items()}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        manifest = {
            "version": version,
            "embedder": embedder.name,
            "dim": embedder.dim,
            "passages": len(passages),
            "documents": len(documents),
            "faiss": type(index).__name__,
            "built_at": datetime.now(timezone.utc).isoformat(),
            "build_seconds": round(time.perf_counter() - started, 2),
            "source_fingerprint": source_fingerprint,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        final = index_dir / version
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _switch_current(index_dir, version)
    _prune_old_versions(index_dir, keep=version)
    progress(f"Índice {version} listo ({len(passages)} pasajes, {manifest['faiss']}).")
    return final


def _switch_current(index_dir: Path, version: str) -> None:
    pointer_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(4)}"
    pointer_tmp.write_text(version + "\n")
    os.replace(pointer_tmp, index_dir / CURRENT)


def _prune_old_versions(index_dir: Path, keep: str) -> None:
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != keep)
    for old in versions[: max(0, len(versions) - (KEEP_VERSIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def current_version(index_dir: Path) -> str | None:
    try:
        return (index_dir / CURRENT).read_text().strip() or None
    except FileNotFoundError:
        return None


def current_manifest(index_dir: Path) -> dict[str, object] | None:
    version = current_version(index_dir)
    if version is None:
        return None
    try:
        return dict(json.loads((index_dir / version / "manifest.json").read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def load_index(index_dir: Path, version: str | None = None) -> LoadedIndex:
    """Loads the current (or the given) version fully into memory."""
    version = version or current_version(index_dir)
    if version is None:
        raise FileNotFoundError(f"No hay índice en {index_dir}: ejecute 'kb build'.")
    root = index_dir / version
    manifest = json.loads((root / "manifest.json").read_text())
    passages = [Passage(**json.loads(line)) for line in (root / "passages.jsonl").open(encoding="utf-8")]
    documents = {k: DocumentMeta(**v) for k, v in json.loads((root / "documents.json").read_text(encoding="utf-8")).items()}
    by_procedure: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        by_procedure.setdefault(p.procedure_id, []).append(i)
    vectors = faiss.read_index(str(root / "vectors.faiss"))
    if vectors.ntotal != len(passages):
        raise ValueError(f"Índice {version} inconsistente: {vectors.ntotal} vectores, {len(passages)} pasajes")
    return LoadedIndex(version, manifest, passages, documents, vectors, Bm25Index.load(root), by_procedure)


def passage_vectors(index: LoadedIndex, ids: list[int]) -> np.ndarray:
    return np.vstack([index.vectors.reconstruct(int(i)) for i in ids])
