"""bot/endpoints.yml picks Rasa's stores from the environment; the embedded default is unchanged.

Rasa itself (its Python 3.10 environment) reads the endpoints file with the environment
that launcher.stack.Stack (make run, the tests) and launcher.cluster.Cluster (the
production profile) give the Rasa process, and builds the stores from it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from backend.scratch_schema import scratch_schema
from launcher.cluster import Cluster
from launcher.stack import EMBEDDED_STORES, ROOT, Stack

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
PROBE = """
import json
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints

endpoints = AvailableEndpoints.read_endpoints("bot/endpoints.yml")
lock_store = LockStore.create(endpoints.lock_store)
tracker_store = TrackerStore.create(endpoints.tracker_store)
if hasattr(lock_store, "red"):
    lock_store.red.ping()
journal = ""
if tracker_store.engine.dialect.name == "sqlite":
    with tracker_store.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
print(json.dumps({"lock": type(lock_store).__name__, "tracker": type(tracker_store).__name__,
                  "sql_tracker": isinstance(tracker_store, SQLTrackerStore),
                  "dialect": tracker_store.engine.dialect.name, "journal": journal}))
"""


def rasa_stores(env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run(
        [str(RASA_PY), "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_embedded_stack_keeps_sqlite_and_the_in_memory_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in EMBEDDED_STORES:  # a developer's own settings aside: the defaults
        monkeypatch.delenv(name, raising=False)
    env = Stack(model=tmp_path / "unused.tar.gz", var_dir=tmp_path).environment()
    # Rasa's SQL store on a SQLite file in WAL mode (connectors/tracker_store.py).
    assert rasa_stores(env) == {
        "lock": "InMemoryLockStore",
        "tracker": "VentanillaTrackerStore",
        "sql_tracker": True,
        "dialect": "sqlite",
        "journal": "wal",
    }
    assert (tmp_path / "rasa_tracker.db").exists()


def test_the_cluster_uses_postgresql_and_redis(
    tmp_path: Path, postgres_url: str, redis_address: tuple[str, int]
) -> None:
    with scratch_schema(postgres_url, "stores") as url:
        cluster = Cluster(model=tmp_path, var_dir=tmp_path, database_url=url, redis_host=redis_address[0])
        assert rasa_stores(cluster.environment()) == {
            "lock": "RedisLockStore",
            "tracker": "VentanillaTrackerStore",
            "sql_tracker": True,
            "dialect": "postgresql",
            "journal": "",
        }


def test_the_cluster_refuses_a_database_that_is_not_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        Cluster(model=tmp_path, var_dir=tmp_path, database_url="sqlite:///x.db").environment()
