"""Grouping unanswered questions by meaning, for the inbox.

Each question is embedded once with the knowledge base's own embedder (the publisher's:
the same model the bot searches with, so "close in meaning" means what it means to the
bot) and the vector is kept on the row. Groups are scikit-learn's Birch clustering of
the unit vectors: one pass, linear in the number of questions, and a group's spread is
bounded by a radius (no chaining of loosely related questions the way single-link
clustering does). Groups are recomputed from the open rows: a handled group's rows are
no longer open, so new questions like them start a new group and are counted again.
The inbox keeps the last grouping warm in ``backend.unanswered.cache`` (full regroups on a
background thread; newly arrived questions inserted into the kept Birch tree of
``backend.unanswered.clustering`` with the same result as a regroup).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.unanswered import store
from backend.unanswered.clustering import Clustering
from backend.unanswered.models import UnansweredQuestion
from knowledge_base.embedders import Embedder, Vectors, normalize_rows

# Birch radius per embedder (unit vectors: distance^2 = 2 - 2 cosine). e5's cosines are
# compressed high, so its radius is smaller. e5's was calibrated with
# ``bench/unanswered_grouping.py --calibrate`` against the synthetic set's 60 topics
# (bench/RESULTS.md): 0.28 split topics by phrasing (377 groups for 60, completeness 0.70);
# 0.34 about halves the groups and keeps them pure (homogeneity 0.95); from 0.38 unrelated
# topics merge (homogeneity 0.66, one group at 0.40), so it stays 0.04 below that edge.
RADIUS = {"e5": 0.34, "use": 0.45, "fake": 0.6}
DEFAULT_RADIUS = 0.4
SAMPLES = 3
SUMMARY_TTL = timedelta(hours=1)  # the cached groups' trend counts are at most this old
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


def summarize(
    rows: Sequence[store.OpenRow], labels: np.ndarray, now: datetime, *, reuse: Sequence[Group] = ()
) -> list[Group]:
    """Groups biggest first (then most recent): count, trend, samples, closest procedure.

    A group of ``reuse`` with exactly the same questions is kept as it is (summarized at
    the same ``now``): the inbox's cache passes its last groups so that a new question
    costs the summary of its own group only.
    """
    members: dict[int, list[store.OpenRow]] = {}
    for row, label in zip(rows, labels.tolist(), strict=True):
        members.setdefault(label, []).append(row)
    known = {tuple(g.ids): g for g in reuse}
    week_ago, two_weeks_ago = now - timedelta(days=7), now - timedelta(days=14)
    groups = []
    for items in members.values():
        items.sort(key=lambda r: r.id)
        same = known.get(tuple(r.id for r in items))
        if same is not None:
            groups.append(same)
            continue
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


def embed_open_missing(session: Session, key: str, embedder: EmbedderFactory) -> int:
    """Embeds the open rows without a vector of this model and commits them; how many (one cheap query if none)."""
    missing = store.unembedded_open_ids(session, key)
    for start in range(0, len(missing), 1000):
        embed_missing(session, key, embedder, store.rows_by_id(session, missing[start : start + 1000]))
    if missing:
        session.commit()
    return len(missing)


def embedded_rows(session: Session, key: str, embedder: EmbedderFactory, *, after_id: int = 0) -> list[store.OpenRow]:
    """The open rows after ``after_id``, every one with a vector of this model (embeds and commits the missing)."""
    embed_open_missing(session, key, embedder)
    return store.open_snapshot(session, after_id=after_id)


def full_clustering(session: Session, key: str, embedder: EmbedderFactory) -> tuple[list[store.OpenRow], Clustering]:
    rows = embedded_rows(session, key, embedder)
    return rows, Clustering.fit(vectors_of(rows), radius_for(key))


def compute_groups(
    session: Session, key: str, embedder: EmbedderFactory, *, now: datetime | None = None
) -> list[Group]:
    """Embeds what is missing (committing the vectors), clusters the open rows, summarizes."""
    rows, clustering = full_clustering(session, key, embedder)
    return summarize(rows, clustering.labels, now or datetime.now(timezone.utc))


def row_ids_open(session: Session, ids: Sequence[int]) -> list[int]:
    """Which of ``ids`` are still open (a group's form may be older than another editor's action)."""
    return list(
        session.scalars(
            select(UnansweredQuestion.id).where(
                UnansweredQuestion.id.in_(list(ids)), UnansweredQuestion.status == "open"
            )
        ).all()
    )
