"""Birch clustering of the inbox's question vectors, full or extended with new questions.

The inbox regroups when questions arrive; refitting 10,000 vectors takes most of a second.
Birch (scikit-learn) inserts samples into its tree one at a time, in order, so fitting the
old rows and then ``partial_fit`` with the new ones builds exactly the tree a full fit of
all rows builds. A row's label is its nearest leaf subcluster; inserting k questions
changes or adds at most k subclusters and leaves the others bit for bit, so only distances
to those few are needed to relabel the old rows. Result: the same labels as a full fit
(tests/backend/test_unanswered_grouping.py checks it), at a cost proportional to the new rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge_base.embedders import Vectors

BRANCHING = 50
CHUNK = 2048  # rows per distance block: 2,048 x 2,000 centres of float32 is 16 MB


def _tree(radius: float) -> Any:
    from sklearn.cluster import Birch

    return Birch(threshold=radius, n_clusters=None, branching_factor=BRANCHING, compute_labels=False)


def _nearest(vectors: Vectors, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre per row and its squared distance (in blocks: bounded memory)."""
    best = np.zeros(len(vectors), dtype=np.int64)
    distance = np.zeros(len(vectors), dtype=np.float32)
    norms = (centers * centers).sum(axis=1)[None, :]
    for start in range(0, len(vectors), CHUNK):
        block = vectors[start : start + CHUNK]
        d2 = (block * block).sum(axis=1)[:, None] - 2.0 * (block @ centers.T) + norms
        found = np.argmin(d2, axis=1)
        best[start : start + len(block)] = found
        distance[start : start + len(block)] = d2[np.arange(len(block)), found]
    return best, distance


def cluster(vectors: Vectors, radius: float) -> np.ndarray:
    """A label per row; rows closer than ``radius`` to a group's centre share it."""
    return Clustering.fit(np.asarray(vectors, dtype=np.float32), radius).labels


@dataclass
class Clustering:
    """Vectors in arrival order, the Birch tree over them (None below two) and a label per row."""

    radius: float
    tree: Any
    labels: np.ndarray
    _buffer: np.ndarray = field(repr=False)
    size: int

    @property
    def vectors(self) -> Vectors:
        return self._buffer[: self.size]

    @classmethod
    def fit(cls, vectors: Vectors, radius: float) -> Clustering:
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) < 2:
            return cls(radius, None, np.zeros(len(vectors), dtype=np.int64), vectors.copy(), len(vectors))
        tree = _tree(radius)
        tree.fit(vectors)
        labels, _ = _nearest(vectors, tree.subcluster_centers_)
        return cls(radius, tree, labels, vectors.copy(), len(vectors))

    def extend(self, added: Vectors) -> None:
        """Inserts ``added`` (rows after every kept one) and relabels as a full fit would."""
        added = np.asarray(added, dtype=np.float32)
        if len(added) == 0:
            return
        self._append(added)
        if self.tree is None:
            fresh = Clustering.fit(self.vectors, self.radius)
            self.tree, self.labels = fresh.tree, fresh.labels
            return
        before = [center.tobytes() for center in self.tree.subcluster_centers_]
        self.tree.partial_fit(added)
        centers = self.tree.subcluster_centers_
        index_now = {center.tobytes(): i for i, center in enumerate(centers)}
        # old label -> the same (untouched) subcluster's new index, or -1 if it absorbed a question
        moved = np.array([index_now.get(key, -1) for key in before], dtype=np.int64)
        known = set(before)
        touched = np.array([i for key, i in index_now.items() if key not in known], dtype=np.int64)
        old_count = self.size - len(added)
        old_vectors = self.vectors[:old_count]
        labels = moved[self.labels]
        lost = labels < 0  # their subcluster changed: look at every centre again
        if lost.any():
            labels[lost], _ = _nearest(old_vectors[lost], centers)
        kept = ~lost
        if kept.any() and len(touched):
            rows = old_vectors[kept]
            mine = centers[labels[kept]]
            current = (rows * rows).sum(axis=1) - 2.0 * (rows * mine).sum(axis=1) + (mine * mine).sum(axis=1)
            best, distance = _nearest(rows, centers[touched])
            closer = distance < current
            relabelled = labels[kept]
            relabelled[closer] = touched[best[closer]]
            labels[kept] = relabelled
        new_labels, _ = _nearest(added, centers)
        self.labels = np.concatenate([labels, new_labels])

    def _append(self, added: np.ndarray) -> None:
        """Grows the vector buffer geometrically (no copy of 10,000 rows per new question)."""
        needed = self.size + len(added)
        if needed > len(self._buffer) or self._buffer.ndim != 2 or self._buffer.shape[1] != added.shape[1]:
            capacity = max(needed, 2 * len(self._buffer), 64)
            grown = np.empty((capacity, added.shape[1]), dtype=np.float32)
            grown[: self.size] = self._buffer[: self.size]
            self._buffer = grown
        self._buffer[self.size : needed] = added
        self.size = needed
