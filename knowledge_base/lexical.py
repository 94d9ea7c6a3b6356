"""Lexical signal: BM25 over lemmatised, accent-folded Spanish.

Lemmas come from spaCy's Spanish lookup lemmatizer (``spacy-lookups-data``), which
needs no trained pipeline and loads offline. Accents are folded *before*
lemmatising (and again after): citizens rarely type them, and the lookup table
maps "tramite" to the verb "tramitar" but "trámite" to the noun, so both sides
must go through the same door. "cuesta" and "costar" still meet.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from textnorm import fold_accents


@lru_cache(maxsize=1)
def _spanish_nlp():  # type: ignore[no-untyped-def]
    import spacy

    nlp = spacy.blank("es")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def _terms(doc) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        fold_accents(token.lemma_ or token.text)
        for token in doc
        if not (token.is_stop or token.is_punct or token.is_space or len(token.text) < 2)
    ]


def analyze(text: str) -> list[str]:
    """Lemmatised, lower-cased, accent-folded content words of ``text``."""
    return _terms(_spanish_nlp()(fold_accents(text.lower())))


def analyze_many(texts: Iterable[str]) -> list[list[str]]:
    """``analyze`` for many texts at once (spaCy's batched pipe: faster for big builds)."""
    return [_terms(doc) for doc in _spanish_nlp().pipe((fold_accents(t.lower()) for t in texts), batch_size=256)]


class Bm25Index:
    """A compact BM25 index: per term, the passage ids and their precomputed weights."""

    def __init__(self, postings: dict[str, tuple[NDArray[np.int32], NDArray[np.float32]]], size: int) -> None:
        self._postings = postings
        self.size = size
        # Each term's best weight, computed once: a question needs it for every term, and
        # scanning a long posting list per question cost up to a millisecond at 100k passages.
        self._max = {term: float(weights.max()) for term, (_, weights) in postings.items() if len(weights)}

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> Bm25Index:
        docs = [list(d) for d in documents]
        n = len(docs)
        avg_len = (sum(len(d) for d in docs) / n) if n else 1.0
        raw: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, terms in enumerate(docs):
            norm = k1 * (1 - b + b * len(terms) / (avg_len or 1.0))
            for term, tf in Counter(terms).items():
                raw[term].append((doc_id, tf * (k1 + 1) / (tf + norm)))
        postings = {}
        for term, entries in raw.items():
            idf = math.log(1 + (n - len(entries) + 0.5) / (len(entries) + 0.5))
            ids = np.fromiter((e[0] for e in entries), dtype=np.int32, count=len(entries))
            weights = np.fromiter((e[1] * idf for e in entries), dtype=np.float32, count=len(entries))
            postings[term] = (ids, weights)
        return cls(postings, n)

    def scores(self, query_terms: Sequence[str]) -> NDArray[np.float32]:
        """BM25 score of every passage (dense array, zero where no term matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in set(query_terms):
            entry = self._postings.get(term)
            if entry is not None:
                out[entry[0]] += entry[1]  # ids are unique within one term
        return out

    def max_weight(self, term: str) -> float:
        """The largest weight ``term`` has in any passage (0 if unknown)."""
        return self._max.get(term, 0.0)

    def save(self, directory: Path) -> None:
        terms = sorted(self._postings)
        lengths = np.array([len(self._postings[t][0]) for t in terms], dtype=np.int64)
        ids = np.concatenate([self._postings[t][0] for t in terms]) if terms else np.zeros(0, np.int32)
        weights = np.concatenate([self._postings[t][1] for t in terms]) if terms else np.zeros(0, np.float32)
        np.savez(directory / "bm25.npz", lengths=lengths, ids=ids, weights=weights)
        (directory / "bm25_terms.json").write_text(json.dumps({"size": self.size, "terms": terms}))

    @classmethod
    def load(cls, directory: Path) -> Bm25Index:
        meta = json.loads((directory / "bm25_terms.json").read_text())
        with np.load(directory / "bm25.npz") as arrays:
            # Read each array once: indexing an NpzFile decompresses the whole array again.
            lengths, ids, weights = arrays["lengths"], arrays["ids"], arrays["weights"]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        postings = {
            term: (ids[offsets[i] : offsets[i + 1]], weights[offsets[i] : offsets[i + 1]])
            for i, term in enumerate(meta["terms"])
        }
        return cls(postings, int(meta["size"]))
