"""The inbox's grouping: new questions extend the cached grouping and agree with a full regroup.

A small deterministic set (the fake embedder, SQLite): questions arrive in batches, the
cache extends its Birch tree with each batch, and after every batch its groups must be
exactly the groups a full regroup of all open rows gives. Handling a group must regroup, on
the cache's background thread: the request serves the last complete grouping meanwhile.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.cluster import Birch
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.db import create_schema, make_engine
from backend.unanswered import cache as inbox_cache
from backend.unanswered import clustering, store
from backend.unanswered.cache import GroupCache
from backend.unanswered.clustering import Clustering
from backend.unanswered.grouping import Group, compute_groups, model_key
from backend.unanswered.models import Reason, Status
from knowledge_base.embedders.fake import FakeEmbedder

TOPICS = [
    "sillas de ruedas", "castración de gatos", "pilas usadas", "clases de natación", "árbol caído",
    "wifi en la plaza", "garrafa social", "boleto estudiantil",
]  # fmt: skip
PHRASINGS = ["¿dónde pido {t}?", "consulta por {t}", "necesito {t} por favor", "{t}"]
KEY = model_key("fake")


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def _add(engine: Engine, texts: list[str], *, with_vectors: bool) -> None:
    embedder = FakeEmbedder()
    with Session(engine) as session:
        for text in texts:
            vector = [float(v) for v in embedder.embed_queries([text])[0]] if with_vectors else None
            store.record(
                session, sender_hash="h", channel="rest", reason=Reason.ABSTAINED, question=text, intent="",
                intent_confidence=None, candidates=[], case_code_prefix="EXP",
                embedding=vector, embedding_model=KEY if with_vectors else "",
            )  # fmt: skip
        session.commit()


def _partition(groups: list[Group]) -> set[tuple[int, ...]]:
    return {tuple(g.ids) for g in groups}


def _texts(n: int, seed: int, topics: int = len(TOPICS)) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(PHRASINGS).format(t=rng.choice(TOPICS[:topics])) for _ in range(n)]


def test_new_questions_extend_the_cached_grouping_and_agree_with_a_full_regroup(engine: Engine) -> None:
    cache = GroupCache(sessionmaker(engine))
    embedder = FakeEmbedder()
    _add(engine, _texts(40, seed=1, topics=3), with_vectors=True)  # later batches bring new themes
    with Session(engine) as session:
        first = cache.groups(session, KEY, lambda: embedder)
    assert cache.full_runs == 1
    assert sum(g.count for g in first) == 40
    for batch, seed in enumerate(range(2, 6)):
        # some batches come with the action server's vectors, others are embedded by the inbox
        _add(engine, _texts(1 + batch * 7, seed=seed), with_vectors=batch % 2 == 0)
        with Session(engine) as session:
            incremental = cache.groups(session, KEY, lambda: embedder)
        with Session(engine) as session:
            full = compute_groups(session, KEY, lambda: embedder)
        assert _partition(incremental) == _partition(full)
        assert [g.samples for g in incremental] == [g.samples for g in full]
    # batches 1 and 3 came without vectors: the background regroup embeds them (no model load in a request)
    assert cache.full_runs == 3, "new questions with vectors must not regroup everything"
    assert 3 <= len(full) < 40, "the set must really group (not one group, not one per question)"


def _group_then_handle_the_first(engine: Engine, cache: GroupCache, embedder: FakeEmbedder) -> list[Group]:
    """30 questions grouped through ``cache``; the biggest group is then dismissed. The groups before."""
    _add(engine, _texts(30, seed=7), with_vectors=True)
    with Session(engine) as session:
        groups = cache.groups(session, KEY, lambda: embedder)
        store.mark_handled(session, ids=groups[0].ids, status=Status.DISMISSED, actor="editor")
        session.commit()
    return groups


def test_handling_a_group_regroups_from_scratch(engine: Engine) -> None:
    cache = GroupCache(sessionmaker(engine))
    embedder = FakeEmbedder()
    groups = _group_then_handle_the_first(engine, cache, embedder)
    _add(engine, _texts(3, seed=8), with_vectors=True)  # arrivals after the handling: count alone could hide it
    with Session(engine) as session:
        after = cache.groups(session, KEY, lambda: embedder)
    with Session(engine) as session:
        full = compute_groups(session, KEY, lambda: embedder)
    assert cache.full_runs == 2
    assert _partition(after) == _partition(full)
    assert not set(groups[0].ids) & {i for g in after for i in g.ids}


def _held_regroups(monkeypatch: pytest.MonkeyPatch, *, free: int) -> tuple[threading.Event, list[str]]:
    """Full regroups after the first ``free`` wait for the returned gate; the threads they ran on."""
    gate, threads = threading.Event(), []
    real = inbox_cache.full_clustering

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        if len(threads) > free:
            assert gate.wait(30), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(inbox_cache, "full_clustering", held)
    return gate, threads


def test_a_handled_group_leaves_at_once_and_the_regroup_runs_off_the_request(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request never runs a full regroup; it serves the last complete grouping minus the handled rows."""
    gate, threads = _held_regroups(monkeypatch, free=1)
    cache = GroupCache(sessionmaker(engine))
    embedder = FakeEmbedder()
    before = _group_then_handle_the_first(engine, cache, embedder)
    with Session(engine) as session:
        during = cache.view(session, KEY, lambda: embedder)  # the regroup is held at the gate
    assert during.updating and during.ready
    assert _partition(during.groups) == _partition(before[1:]), "the last complete grouping, minus the handled group"
    gate.set()
    assert cache.wait_idle()
    with Session(engine) as session:
        after = cache.view(session, KEY, lambda: embedder)
        full = compute_groups(session, KEY, lambda: embedder)
    assert not after.updating and _partition(after.groups) == _partition(full)
    assert threads == ["unanswered-grouping", "unanswered-grouping"], "full regroups only on the cache's thread"


def test_before_the_first_grouping_the_page_shows_none_not_a_half_built_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, _ = _held_regroups(monkeypatch, free=0)
    embedder = FakeEmbedder()
    _add(engine, _texts(12, seed=3), with_vectors=True)
    cache = GroupCache(sessionmaker(engine), wait=0.05)
    cache.refresh(KEY, lambda: embedder)  # what the app does at start
    with Session(engine) as session:
        first = cache.view(session, KEY, lambda: embedder)
    assert first == inbox_cache.InboxView([], updating=True, ready=False)
    gate.set()
    waiting = GroupCache(sessionmaker(engine), wait=30)  # a request may wait: it gets the finished grouping
    with Session(engine) as session:
        served = waiting.view(session, KEY, lambda: embedder)
        assert served.ready and sum(g.count for g in served.groups) == 12
        assert _partition(served.groups) == _partition(compute_groups(session, KEY, lambda: embedder))
    assert cache.wait_idle()


def test_another_model_regroups_from_scratch(engine: Engine) -> None:
    cache = GroupCache(sessionmaker(engine))
    embedder = FakeEmbedder()
    _add(engine, _texts(10, seed=9), with_vectors=True)
    with Session(engine) as session:
        cache.groups(session, KEY, lambda: embedder)
        cache.groups(session, model_key("fake", "other"), lambda: embedder)
    assert cache.full_runs == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_extending_the_clustering_gives_the_labels_of_a_full_fit(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit vectors in overlapping blobs: new rows change subclusters that old rows sit near."""
    monkeypatch.setattr(clustering, "CHUNK", 64)  # distances in several blocks, as with 10,000 rows
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, 16))
    points = centres[rng.integers(0, 12, size=600)] + rng.normal(scale=0.6, size=(600, 16))
    vectors = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    growing = Clustering.fit(vectors[:200], 0.35)
    for start, stop in [(200, 201), (201, 260), (260, 263), (263, 600)]:
        growing.extend(vectors[start:stop])
        full = Clustering.fit(vectors[:stop], 0.35)
        assert np.array_equal(growing.labels, full.labels)
    reference = Birch(threshold=0.35, n_clusters=None, branching_factor=50).fit_predict(vectors)
    assert np.array_equal(growing.labels, reference), "the same labels as scikit-learn's own fit_predict"
    assert 20 < len(set(growing.labels.tolist())) < 600


@pytest.mark.slow  # starts a worker process (a fresh interpreter importing scikit-learn)
def test_big_inboxes_are_fitted_in_a_worker_process_with_the_same_groups(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_cache, "PROCESS_FROM", 10)
    thread_fits = _held_regroups(monkeypatch, free=0)[1]  # a fit on the thread would wait at the gate
    embedder = FakeEmbedder()
    _add(engine, _texts(40, seed=5), with_vectors=True)
    _add(engine, _texts(5, seed=6), with_vectors=False)  # the thread embeds these before the fit
    cache = GroupCache(sessionmaker(engine), database_url=str(engine.url))
    try:
        with Session(engine) as session:
            groups = cache.groups(session, KEY, lambda: embedder)
            full = compute_groups(session, KEY, lambda: embedder)
    finally:
        cache.close()
    assert thread_fits == [] and cache.full_runs == 1
    assert _partition(groups) == _partition(full) and sum(g.count for g in groups) == 45
