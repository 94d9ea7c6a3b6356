"""The inbox's grouping kept warm: full regroups run off the request, never in it.

The inbox page must render in under half a second with 10,000 questions; a full Birch
regroup of them takes about a second. So the page always serves the last *complete*
grouping, and a full regroup (at start, after a group is handled, with another model,
when the trend counts are an hour old) is computed off the request and swapped in whole
when done: the cache's thread hands the fit to a worker process (``fit_in_process``; on
the thread itself, Birch would share the interpreter lock with every request). Meanwhile
the page says "actualizando": the groups it shows are the previous grouping without the
questions that left it (handled groups disappear at once; a group partly handled
elsewhere is summarized again from its remaining questions). Questions that only
*arrived*, with their vectors (the action server sends them), are still inserted into the
kept tree in the request (``Clustering.extend``, a few tens of ms: the same groups a full
regroup gives); rows without one are embedded before the background regroup.

A request may wait ``wait`` seconds (a setting) for a running regroup; after that it
shows what it has, marked as updating (before the first grouping: no groups yet).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import make_engine
from backend.unanswered import store
from backend.unanswered.clustering import Clustering
from backend.unanswered.grouping import (
    SUMMARY_TTL,
    EmbedderFactory,
    Group,
    embed_open_missing,
    full_clustering,
    radius_for,
    summarize,
    vectors_of,
)
from backend.unanswered.models import Reason, Status, UnansweredQuestion

logger = logging.getLogger(__name__)
# More new rows than this are not inserted in the request (inserting is linear in them):
# the background regroup takes them in, and the page serves the last grouping meanwhile.
EXTEND_MAX = 500
# Fewer open rows than this are fitted on the cache's thread (a tenth of a second of Birch):
# the worker process (a fresh interpreter importing scikit-learn) is worth it for big inboxes.
PROCESS_FROM = 1000
WORKER_NICENESS = 10  # the worker process runs below the web process's priority


@dataclass(frozen=True)
class InboxView:
    """What the inbox shows: complete groups, and whether a newer grouping is being computed."""

    groups: list[Group]
    updating: bool
    ready: bool = True  # False: no grouping has been completed yet (the first one is running)


@dataclass
class _Snapshot:
    """One complete grouping: the rows it was built from, the Birch tree, the summaries."""

    model: tuple[str, float]
    rows: list[store.OpenRow]
    clustering: Clustering
    groups: list[Group]
    summarized_at: datetime

    @property
    def signature(self) -> tuple[int, int]:
        return len(self.rows), self.rows[-1].id if self.rows else 0


def open_ids(session: Session) -> set[int]:
    """Ids of the inbox's open rows (one indexed query; ~10,000 integers)."""
    q = UnansweredQuestion
    return set(session.scalars(select(q.id).where(q.status == Status.OPEN, q.reason.in_(Reason.INBOX))).all())


def without_left(snapshot: _Snapshot, still_open: set[int]) -> list[Group]:
    """The snapshot's groups minus rows that are no longer open (groups left empty drop out)."""
    by_id = {row.id: row for row in snapshot.rows}
    kept: list[Group] = []
    for group in snapshot.groups:
        remaining = [i for i in group.ids if i in still_open]
        if len(remaining) == len(group.ids):
            kept.append(group)
        elif remaining:
            rows = [by_id[i] for i in remaining]
            kept.extend(summarize(rows, np.zeros(len(rows), dtype=np.int64), snapshot.summarized_at))
    kept.sort(key=lambda g: (-g.count, -g.last_seen.timestamp()))
    return kept


class GroupCache:
    """The inbox's last complete grouping, a background regroup, and new rows added in the request."""

    def __init__(
        self, sessions: sessionmaker[Session] | Callable[[], Session], *, wait: float = 0.0, database_url: str = ""
    ) -> None:
        """``database_url``: fit in a worker process reading that database (else on the cache's thread)."""
        self._sessions = sessions
        self._database_url = database_url
        self._executor: ProcessPoolExecutor | None = None
        self.wait = wait  # seconds a request may wait for a running regroup before serving the last one
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._snapshot: _Snapshot | None = None
        self._filtered: tuple[tuple[int, int], list[Group]] | None = None
        self._wanted: tuple[str, EmbedderFactory] | None = None
        self._worker: threading.Thread | None = None
        self._again = False
        self._asked = 0  # regroups asked for so far
        self.generation = 0  # complete groupings published so far
        self.full_runs = 0  # full regroups computed (all on the background thread)
        self.failures = 0

    # --- the request side --------------------------------------------------------------------

    def view(self, session: Session, model: str, embedder: EmbedderFactory) -> InboxView:
        """The groups to show now; never runs a full regroup on the caller's thread."""
        wanted = (model, radius_for(model))
        signature = store.open_signature(session)
        with self._lock:
            current = self._usable(session, wanted, embedder, signature)
            if current is not None:
                return InboxView(current.groups, updating=False)  # the grouping of the open rows as they are
            self._schedule(model, embedder)
            if self.wait > 0:
                self._done.wait_for(lambda: self._of_rows(wanted, signature) or self._worker is None, self.wait)
                current = self._usable(session, wanted, embedder, signature)
                if current is not None:
                    return InboxView(current.groups, updating=False)  # the grouping of the open rows as they are
            return self._last_complete(session, signature)

    def groups(self, session: Session, model: str, embedder: EmbedderFactory) -> list[Group]:
        """The groups of the open rows as they are now, waiting for the regroup (scripts, tests, bench)."""
        failures = self.failures
        while True:
            view = self.view(session, model, embedder)
            if not view.updating:
                return view.groups
            self.wait_idle()
            if self.failures > failures:
                raise RuntimeError("the inbox's grouping failed (see the log)")

    def refresh(self, model: str, embedder: EmbedderFactory) -> None:
        """Starts a full regroup now (at start, right after a group is handled)."""
        with self._lock:
            self._schedule(model, embedder)

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """True when no regroup is running (tests, the bench)."""
        with self._lock:
            return self._done.wait_for(lambda: self._worker is None, timeout=timeout)

    def _of_rows(self, wanted: tuple[str, float], signature: tuple[int, int]) -> bool:
        """(lock held) The snapshot is a grouping of exactly these open rows with this model."""
        current = self._snapshot
        return current is not None and current.model == wanted and current.signature == signature

    def _usable(
        self, session: Session, wanted: tuple[str, float], embedder: EmbedderFactory, signature: tuple[int, int]
    ) -> _Snapshot | None:
        """(lock held) The snapshot if it is of this model, its trends fresh, and its rows the open ones.

        Rows that only arrived are inserted into it first (fast); rows that left make it unusable.
        """
        current = self._snapshot
        if current is None or current.model != wanted:
            return None
        if datetime.now(timezone.utc) - current.summarized_at >= SUMMARY_TTL:
            return None
        if current.signature != signature and not self._extend(session, current, wanted[0], embedder, signature):
            return None
        return current

    def _last_complete(self, session: Session, signature: tuple[int, int]) -> InboxView:
        """(lock held) The last complete grouping, without the rows that left it, marked as updating."""
        current = self._snapshot
        if current is None:
            return InboxView([], updating=True, ready=False)
        if current.signature == signature:
            return InboxView(current.groups, updating=True)
        if self._filtered is None or self._filtered[0] != signature:
            self._filtered = (signature, without_left(current, open_ids(session)))
        return InboxView(self._filtered[1], updating=True)

    def _extend(
        self, session: Session, current: _Snapshot, model: str, embedder: EmbedderFactory, signature: tuple[int, int]
    ) -> bool:
        """Inserts rows that only arrived into the kept tree; False when rows also left."""
        count, top = current.signature
        if signature[1] <= top or signature[0] <= count or signature[0] - count > EXTEND_MAX:
            return False
        new_rows = store.open_snapshot(session, after_id=top)
        if count + len(new_rows) != signature[0] or any(r.embedding_model != model for r in new_rows):
            return False  # rows also left, or a row needs embedding (loading a model): the background's job
        current.clustering.extend(vectors_of(new_rows))
        current.rows.extend(new_rows)
        current.groups = summarize(current.rows, current.clustering.labels, current.summarized_at, reuse=current.groups)
        return True

    # --- the background side -----------------------------------------------------------------

    def _schedule(self, model: str, embedder: EmbedderFactory) -> None:
        """(lock held) One regroup at a time; a request during one asks for another after it."""
        self._wanted = (model, embedder)
        self._asked += 1
        if self._worker is not None:
            self._again = True
            return
        self._worker = threading.Thread(target=self._run, name="unanswered-grouping", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                wanted, self._again = self._wanted, False
            try:
                snapshot = self._compute(*wanted) if wanted is not None else None
            except Exception as exc:  # noqa: BLE001 - a failed regroup must not kill the page; the next view retries
                # the type only: a database error's text may quote a citizen's question
                logger.error("unanswered grouping failed: %s", type(exc).__name__)
                snapshot = None
            with self._lock:
                asked = self._asked
            current = snapshot is not None and self._still_current(snapshot)
            with self._lock:
                if snapshot is not None:
                    self._snapshot, self._filtered = snapshot, None
                    self.generation += 1
                else:
                    self.failures += 1
                # asked again during the fit and the rows moved since, or asked after the check: once more
                again = snapshot is not None and (self._asked > asked or (self._again and not current))
                if not again:
                    self._worker, self._wanted = None, None
                    self._done.notify_all()
                    return
                self._done.notify_all()

    def _still_current(self, snapshot: _Snapshot) -> bool:
        """The open rows are still the ones just grouped (a regroup asked for meanwhile is not needed)."""
        try:
            with self._sessions() as session:
                return store.open_signature(session) == snapshot.signature
        except Exception:  # noqa: BLE001 - when in doubt, regroup again
            return False

    def _compute(self, model: str, embedder: EmbedderFactory) -> _Snapshot:
        with self._sessions() as session:
            small = store.open_signature(session)[0] < PROCESS_FROM
        if self._database_url and not small:
            for _attempt in range(3):
                with self._sessions() as session:
                    embed_open_missing(session, model, embedder)  # rows without a vector (rare): here, with the model
                snapshot, unembedded = self._process().submit(fit_in_process, self._database_url, model).result()
                if not unembedded:  # else rows arrived without a vector meanwhile: embed them, fit again
                    break
        else:
            with self._sessions() as session:
                rows, clustering = full_clustering(session, model, embedder)
            now = datetime.now(timezone.utc)
            snapshot = _Snapshot(
                (model, radius_for(model)), rows, clustering, summarize(rows, clustering.labels, now), now
            )
        self.full_runs += 1
        return snapshot

    def _process(self) -> ProcessPoolExecutor:
        """One worker process, started on first use ("spawn": no copy of our threads), at a lower priority."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
            )
        return self._executor

    def close(self) -> None:
        """Stops the worker process (the app's shutdown)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _lower_priority() -> None:
    """The worker yields the CPU to the web process's requests (a regroup may take a while longer)."""
    os.nice(WORKER_NICENESS)


def fit_in_process(database_url: str, model: str) -> tuple[_Snapshot, int]:
    """The worker process's job: load the open rows, fit Birch on those with a vector, summarize.

    Returns the grouping and how many open rows had no vector of ``model`` yet (left out).

    In another process because Birch is Python-heavy: on a thread of the web process it would
    hold the interpreter lock in turns with every request for a second or more.
    """
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            rows = store.open_snapshot(session)
    finally:
        engine.dispose()
    embedded = [r for r in rows if r.embedding is not None and r.embedding_model == model]
    clustering = Clustering.fit(vectors_of(embedded), radius_for(model))
    light = [replace(r, embedding=None) for r in embedded]  # the tree keeps the vectors: half the bytes sent back
    return _snapshot_of(model, light, clustering), len(rows) - len(embedded)


def _snapshot_of(model: str, rows: list[store.OpenRow], clustering: Clustering) -> _Snapshot:
    now = datetime.now(timezone.utc)
    return _Snapshot((model, radius_for(model)), rows, clustering, summarize(rows, clustering.labels, now), now)
