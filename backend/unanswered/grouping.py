"""Grouping unanswered questions by meaning, for the inbox.

Each question is embedded once with the knowledge base's own embedder (the publisher's:
the same model the bot searches with, so "close in meaning" means what it means to the
bot) and the vector is kept on the row. Groups are scikit-learn's Birch clustering of
the unit vectors: one pass, linear in the number of questions, and a group's spread is
bounded by a radius (no chaining of loosely related questions the way single-link
clustering does). Groups are recomputed from the open rows: a handled group's rows are
no longer open, so new questions like them start a new group and are counted again.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.unanswered import store
from backend.unanswered.models import UnansweredQuestion
from knowledge_base.embedders import Embedder, Vectors, normalize_rows

# Birch radius per embedder (unit vectors: distance^2 = 2 - 2 cosine). e5's cosines are
# compressed high, so its radius is smaller. bench/unanswered_grouping.py measures them.
RADIUS = {"e5": 0.28, "use": 0.45, "fake": 0.6}
DEFAULT_RADIUS = 0.4
SAMPLES = 3
EMBED_BATCH = 256


@dataclass(frozen=True)
class Closest:
    procedure_id: str
    score: float  # mean best score of the group's questions for this procedure


@dataclass
class Group:
    ids: list[int]
    samples: list[str]
    last_week: int
    week_before: int
    closest: Closest | None
    reasons: dict[str, int]
    last_seen: datetime
    channels: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def key(self) -> int:
        return self.ids[0]


EmbedderFactory = Callable[[], Embedder]


def model_key(backend: str, model: str = "") -> str:
    """What a stored vector was made with (the KB settings' embedder and model)."""
    return f"{backend}:{model}" if model else backend


def radius_for(key: str) -> float:
    return RADIUS.get(key.split(":", 1)[0], DEFAULT_RADIUS)


def embed_missing(session: Session, key: str, embedder: EmbedderFactory, rows: Sequence[UnansweredQuestion]) -> int:
    """Embeds rows without a vector of this model and stores the vectors (the caller commits).

    ``embedder`` is called only when a row needs it: loading a model takes seconds.
    """
    missing = [r for r in rows if r.embedding is None or r.embedding_model != key]
    if missing:
        model = embedder()
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors = normalize_rows(model.embed_queries([r.question for r in batch]))
            for row, vector in zip(batch, vectors, strict=True):
                row.embedding = vector.astype(np.float32).tobytes()
                row.embedding_model = key[:80]
    return len(missing)


def cluster(vectors: Vectors, radius: float) -> np.ndarray:
    """A label per row; rows closer than ``radius`` to a group's centre share it."""
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(vectors) == 1:
        return np.zeros(1, dtype=np.int64)
    from sklearn.cluster import Birch

    model = Birch(threshold=radius, n_clusters=None, branching_factor=50, compute_labels=True)
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


def _closest(rows: Sequence[store.OpenRow]) -> Closest | None:
    totals: dict[str, float] = {}
    for row in rows:
        for candidate in row.candidates[:1]:
            pid = str(candidate["procedure_id"])
            totals[pid] = totals.get(pid, 0.0) + float(candidate["score"])
    if not totals:
        return None
    pid, total = max(totals.items(), key=lambda kv: kv[1])
    return Closest(pid, total / len(rows))


def summarize(rows: Sequence[store.OpenRow], labels: np.ndarray, now: datetime) -> list[Group]:
    """Groups biggest first (then most recent): count, trend, samples, closest procedure."""
    members: dict[int, list[store.OpenRow]] = {}
    for row, label in zip(rows, labels, strict=True):
        members.setdefault(int(label), []).append(row)
    week_ago, two_weeks_ago = now - timedelta(days=7), now - timedelta(days=14)
    groups = []
    for items in members.values():
        items.sort(key=lambda r: r.id)
        newest_first = sorted(items, key=lambda r: r.created_at, reverse=True)
        samples = list(dict.fromkeys(r.question for r in newest_first))[:SAMPLES]
        groups.append(
            Group(
                ids=[r.id for r in items],
                samples=samples,
                last_week=sum(1 for r in items if r.created_at >= week_ago),
                week_before=sum(1 for r in items if two_weeks_ago <= r.created_at < week_ago),
                closest=_closest(items),
                reasons=dict(Counter(r.reason for r in items)),
                last_seen=newest_first[0].created_at,
                channels=dict(Counter(r.channel for r in items)),
            )
        )
    groups.sort(key=lambda g: (-g.count, -g.last_seen.timestamp()))
    return groups


def vectors_of(rows: Sequence[store.OpenRow]) -> Vectors:
    if not rows:
        return np.zeros((0, 1), dtype=np.float32)
    return np.vstack([np.frombuffer(row.embedding or b"", dtype=np.float32) for row in rows])


def compute_groups(
    session: Session, key: str, embedder: EmbedderFactory, *, now: datetime | None = None
) -> list[Group]:
    """Embeds what is missing (committing the vectors), clusters the open rows, summarizes."""
    rows = store.open_snapshot(session)
    missing = [r.id for r in rows if r.embedding is None or r.embedding_model != key]
    if missing:
        for start in range(0, len(missing), 1000):
            embed_missing(session, key, embedder, store.rows_by_id(session, missing[start : start + 1000]))
        session.commit()
        rows = store.open_snapshot(session)
    labels = cluster(vectors_of(rows), radius_for(key))
    return summarize(rows, labels, now or datetime.now(timezone.utc))


class GroupCache:
    """The last grouping, reused while the open rows are the same (count and highest id).

    The inbox page must stay fast with 10,000 questions; grouping them takes seconds,
    so it runs only when questions arrived or a group was handled.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, int, str] | None = None
        self._groups: list[Group] = []

    def groups(self, session: Session, model: str, embedder: EmbedderFactory) -> list[Group]:
        key = (*store.open_signature(session), model)
        with self._lock:
            if key != self._key:
                self._groups = compute_groups(session, model, embedder)
                self._key = key
            return self._groups

    def clear(self) -> None:
        with self._lock:
            self._key = None


def row_ids_open(session: Session, ids: Sequence[int]) -> list[int]:
    """Which of ``ids`` are still open (a group's form may be older than another editor's action)."""
    return list(
        session.scalars(
            select(UnansweredQuestion.id).where(
                UnansweredQuestion.id.in_(list(ids)), UnansweredQuestion.status == "open"
            )
        ).all()
    )
