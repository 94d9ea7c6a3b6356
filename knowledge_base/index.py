"""Building, storing and loading a search index, atomically and by version.

Layout under the index directory::

    CURRENT                 name of the version being served (replaced atomically)
    v-<utc time, µs>-<rand>/ manifest.json, passages.jsonl, documents.json,
                            vectors.faiss, bm25.npz, bm25_terms.json,
                            out_of_scope.npy, out_of_scope.json, rewrites.json,
                            terms.json (lemmatised terms per passage)

An incremental build (``reuse=`` the version being served) takes the vectors and terms
of every passage whose embedded text is unchanged from that version and computes only
the rest; ``rollback`` serves the previous complete version again.

A build writes a new version into a hidden temporary directory, renames it into
place, and only then switches ``CURRENT`` with ``os.replace``. Readers never see
a half-written index: if the build dies at any point, ``CURRENT`` still names
the old, complete version, and the action server keeps serving it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np
from numpy.typing import NDArray

from knowledge_base.aspects import ASPECTS, passage_aspect
from knowledge_base.embedders import Embedder
from knowledge_base.lexical import Bm25Index, analyze_many
from knowledge_base.passages import Passage
from knowledge_base.rewrite import QueryRewriter

CURRENT = "CURRENT"
KEEP_VERSIONS = 3
# Temporary directories of builds that died (power cut, kill -9) are removed by a later build.
STALE_TMP_SECONDS = 6 * 3600


@dataclass(frozen=True)
class DocumentMeta:
    """What the bot cites for a procedure (or an imported document)."""

    title: str
    source_url: str
    last_reviewed: str
    kind: str = "procedure"  # "procedure": a catalog procedure; "imported": an imported document


@dataclass
class LoadedIndex:
    version: str
    manifest: dict[str, object]
    passages: list[Passage]
    documents: dict[str, DocumentMeta]
    vectors: faiss.Index
    lexical: Bm25Index
    by_procedure: dict[str, NDArray[np.int64]]
    matrix: NDArray[np.float32]  # all passage vectors, a view into the FAISS storage
    out_of_scope: NDArray[np.float32]  # one row per out-of-scope topic (may be empty)
    rewriter: QueryRewriter = field(default_factory=QueryRewriter)
    procedure_of: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    procedure_ids: list[str] = field(default_factory=list)
    aspects: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))  # ASPECTS position, -1: none
    out_of_scope_texts: list[str] | None = None  # None: an index built before they were stored


def _new_faiss_index(dim: int, size: int, hnsw_min_size: int) -> faiss.Index:
    if size >= hnsw_min_size:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
        return index
    return faiss.IndexFlatIP(dim)


def _storage_matrix(index: faiss.Index) -> NDArray[np.float32]:
    """The stored vectors as a numpy view (no copy) of a flat or HNSW-flat index."""
    flat = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    xb = flat.get_xb()  # type: ignore[attr-defined]  # on the flat storage, not on every Index
    return faiss.rev_swig_ptr(xb, flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)


def build_index(
    passages: list[Passage],
    documents: dict[str, DocumentMeta],
    embedder: Embedder,
    index_dir: Path,
    *,
    hnsw_min_size: int,
    out_of_scope: Sequence[str] = (),
    rewriter: QueryRewriter | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
    source_fingerprint: str = "",
    vectors: NDArray[np.float32] | None = None,
    model: str = "",
    reuse: LoadedIndex | None = None,
    activate: bool = True,
) -> Path:
    """Embeds and indexes ``passages`` into a new version and (with ``activate``) makes it current.

    ``vectors`` may carry precomputed passage vectors (benchmarks with synthetic
    collections); normally the embedder computes them. With ``reuse`` (the version
    being served), a passage whose embedded text is unchanged takes its stored vector
    and only new or changed passages are embedded: publishing one procedure embeds
    that procedure's changed passages only. ``activate=False`` leaves ``CURRENT``
    alone; ``activate_version`` switches it later (after the database commit).
    """
    if not passages:
        raise ValueError("No hay pasajes para indexar.")
    missing = sorted({p.procedure_id for p in passages} - set(documents))
    if missing:
        raise ValueError(f"Pasajes sin documento: {', '.join(missing[:5])}")
    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(index_dir)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")  # names sort by build time
    version = f"v-{stamp}-{secrets.token_hex(3)}"
    tmp = index_dir / f".tmp-{version}"
    tmp.mkdir()
    try:
        started = time.perf_counter()
        reused = 0
        if vectors is None:
            vectors, reused = _passage_vectors(passages, embedder, model, reuse, progress)
        if vectors.shape != (len(passages), embedder.dim):
            raise ValueError(f"Se esperaban {len(passages)} vectores de dimensión {embedder.dim}")
        index = _new_faiss_index(embedder.dim, len(passages), hnsw_min_size)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        negatives = _topic_vectors(list(out_of_scope), embedder, model, reuse)
        np.save(tmp / "out_of_scope.npy", negatives)
        (tmp / "out_of_scope.json").write_text(json.dumps(list(out_of_scope), ensure_ascii=False), encoding="utf-8")
        progress("Construyendo el índice léxico...")
        terms = _passage_terms(passages, index_dir, reuse)
        Bm25Index.build(terms).save(tmp)
        (tmp / "terms.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        with (tmp / "passages.jsonl").open("w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        (tmp / "documents.json").write_text(
            json.dumps({k: vars(v) for k, v in documents.items()}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        (tmp / "rewrites.json").write_text(
            json.dumps((rewriter or QueryRewriter()).to_dict(), ensure_ascii=False), encoding="utf-8"
        )
        manifest = {
            "version": version,
            "embedder": embedder.name,
            "model": model,
            "dim": embedder.dim,
            "passages": len(passages),
            "documents": len(documents),
            "out_of_scope_topics": len(negatives),
            "faiss": type(index).__name__,
            "built_at": datetime.now(timezone.utc).isoformat(),
            "build_seconds": round(time.perf_counter() - started, 2),
            "source_fingerprint": source_fingerprint,
            "embedded_passages": len(passages) - reused,
            "reused_passages": reused,
        }
        # The manifest is written last: a version directory without one is incomplete.
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        final = index_dir / version
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if activate:
        activate_version(index_dir, version)
    progress(f"Índice {version} listo ({len(passages)} pasajes, {manifest['faiss']}).")
    return final


def _reusable(reuse: LoadedIndex | None, embedder: Embedder, model: str) -> bool:
    return (
        reuse is not None
        and reuse.manifest.get("embedder") == embedder.name
        and str(reuse.manifest.get("model", "")) == model
        and reuse.matrix.shape[1] == embedder.dim
    )


def _passage_vectors(
    passages: list[Passage],
    embedder: Embedder,
    model: str,
    reuse: LoadedIndex | None,
    progress: Callable[[str], None],
) -> tuple[NDArray[np.float32], int]:
    """Vectors of ``passages``: stored ones for unchanged embedded texts, fresh ones for the rest."""
    known: dict[str, int] = {}
    if reuse is not None and _reusable(reuse, embedder, model):
        known = {p.embed_text: i for i, p in enumerate(reuse.passages)}
    missing = [i for i, p in enumerate(passages) if p.embed_text not in known]
    vectors = np.zeros((len(passages), embedder.dim), np.float32)
    if missing:
        progress(f"Calculando embeddings de {len(missing)} pasajes con '{embedder.name}'...")
        fresh = np.asarray(embedder.embed_passages([passages[i].embed_text for i in missing]), dtype=np.float32)
        vectors[missing] = fresh
    kept = [i for i in range(len(passages)) if passages[i].embed_text in known]
    if kept:
        if reuse is None:  # kept is empty without a previous index
            raise RuntimeError("reused vectors without a previous index")
        vectors[kept] = reuse.matrix[[known[passages[i].embed_text] for i in kept]]
    return vectors, len(kept)


def _passage_terms(passages: list[Passage], index_dir: Path, reuse: LoadedIndex | None) -> list[list[str]]:
    """Lemmatised terms of every passage; unchanged passages take those stored with ``reuse``.

    Lemmatising all 1,164 shipped passages is most of an incremental publish otherwise
    (spaCy, several seconds on a busy machine), while one procedure changes ~30 of them.
    """
    known: dict[str, list[str]] = {}
    stored_path = index_dir / reuse.version / "terms.json" if reuse is not None else None
    if reuse is not None and stored_path is not None and stored_path.exists():
        stored = json.loads(stored_path.read_text(encoding="utf-8"))
        if len(stored) == len(reuse.passages):
            known = {p.embed_text: t for p, t in zip(reuse.passages, stored, strict=True)}
    missing = [i for i, p in enumerate(passages) if p.embed_text not in known]
    fresh = dict(zip(missing, analyze_many(passages[i].embed_text for i in missing), strict=True))
    return [fresh[i] if i in fresh else known[p.embed_text] for i, p in enumerate(passages)]


def _topic_vectors(topics: list[str], embedder: Embedder, model: str, reuse: LoadedIndex | None) -> NDArray[np.float32]:
    if not topics:
        return np.zeros((0, embedder.dim), np.float32)
    if reuse is not None and _reusable(reuse, embedder, model) and reuse.out_of_scope_texts == topics:
        return reuse.out_of_scope.copy()
    return np.asarray(embedder.embed_passages(topics), dtype=np.float32)


def activate_version(index_dir: Path, version: str) -> None:
    """Makes a complete version current (atomically) and prunes the oldest ones."""
    if not (index_dir / version / "manifest.json").exists():
        raise ValueError(f"La versión del índice {version} no existe o está incompleta.")
    _switch_current(index_dir, version)
    _prune_old_versions(index_dir, keep=version)


def discard_version(index_dir: Path, version: str) -> None:
    """Removes a version that was built but never made current (its publish failed)."""
    if current_version(index_dir) != version:
        shutil.rmtree(index_dir / version, ignore_errors=True)


def complete_versions(index_dir: Path) -> list[str]:
    """Version names with a manifest, oldest first (names sort by build time)."""
    return sorted(p.name for p in index_dir.glob("v-*") if (p / "manifest.json").exists())


def rollback(index_dir: Path) -> str:
    """Serves again the newest complete version older than the current one; returns its name.

    The rolled-back version stays on disk, so a second ``rollback`` goes one further
    back and a later build or ``activate_version`` can return to it.
    """
    current = current_version(index_dir)
    older = [v for v in complete_versions(index_dir) if current is None or v < current]
    if not older:
        raise ValueError(f"No hay una versión anterior del índice en {index_dir}.")
    _switch_current(index_dir, older[-1])
    return older[-1]


def _switch_current(index_dir: Path, version: str) -> None:
    pointer_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(4)}"
    pointer_tmp.write_text(version + "\n")
    os.replace(pointer_tmp, index_dir / CURRENT)


def _prune_old_versions(index_dir: Path, keep: str) -> None:
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != keep)
    for old in versions[: max(0, len(versions) - (KEEP_VERSIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def _remove_stale_temporaries(index_dir: Path) -> None:
    now = time.time()
    for tmp in index_dir.glob(".tmp-v-*"):
        try:
            if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                shutil.rmtree(tmp, ignore_errors=True)
        except FileNotFoundError:
            pass


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
    with (root / "passages.jsonl").open(encoding="utf-8") as fh:
        passages = [Passage(**json.loads(line)) for line in fh]
    documents = {
        k: DocumentMeta(**v) for k, v in json.loads((root / "documents.json").read_text(encoding="utf-8")).items()
    }
    vectors = faiss.read_index(str(root / "vectors.faiss"))
    if vectors.ntotal != len(passages):
        raise ValueError(f"Índice {version} inconsistente: {vectors.ntotal} vectores, {len(passages)} pasajes")
    negatives_path = root / "out_of_scope.npy"
    negatives = np.load(negatives_path) if negatives_path.exists() else np.zeros((0, vectors.d), np.float32)
    rewrites_path = root / "rewrites.json"
    rewriter = (
        QueryRewriter.from_dict(json.loads(rewrites_path.read_text(encoding="utf-8")))
        if rewrites_path.exists()
        else QueryRewriter()
    )
    topics_path = root / "out_of_scope.json"
    topics = json.loads(topics_path.read_text(encoding="utf-8")) if topics_path.exists() else None
    return assemble_index(
        version, manifest, passages, documents, vectors, Bm25Index.load(root), negatives, rewriter, topics
    )


def assemble_index(
    version: str,
    manifest: dict[str, object],
    passages: list[Passage],
    documents: dict[str, DocumentMeta],
    vectors: faiss.Index,
    lexical: Bm25Index,
    negatives: NDArray[np.float32],
    rewriter: QueryRewriter,
    out_of_scope_texts: list[str] | None = None,
) -> LoadedIndex:
    """A searchable index from its parts (loaded from disk, or built in memory for a preview)."""
    procedure_ids = sorted({p.procedure_id for p in passages})
    position = {pid: i for i, pid in enumerate(procedure_ids)}
    procedure_of = np.fromiter((position[p.procedure_id] for p in passages), dtype=np.int32, count=len(passages))
    order = np.argsort(procedure_of, kind="stable")
    bounds = np.searchsorted(procedure_of[order], np.arange(len(procedure_ids) + 1))
    by_procedure = {pid: order[bounds[i] : bounds[i + 1]] for i, pid in enumerate(procedure_ids)}
    aspect_position = {a: i for i, a in enumerate(ASPECTS)}
    aspects = np.fromiter(
        (aspect_position.get(passage_aspect(p.section, p.label) or "", -1) for p in passages),
        dtype=np.int8,
        count=len(passages),
    )
    return LoadedIndex(
        version=version,
        manifest=manifest,
        passages=passages,
        documents=documents,
        vectors=vectors,
        lexical=lexical,
        by_procedure=by_procedure,
        matrix=_storage_matrix(vectors),
        out_of_scope=np.ascontiguousarray(negatives, dtype=np.float32),
        rewriter=rewriter,
        procedure_of=procedure_of,
        procedure_ids=procedure_ids,
        aspects=aspects,
        out_of_scope_texts=out_of_scope_texts,
    )
