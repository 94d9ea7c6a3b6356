"""The Alembic migrations are the schema: they must produce exactly the models' metadata.

If a test here fails after you changed or added models (for example the interaction
tables in backend/interaction_models.py), add a migration:
``.venv/bin/alembic -c backend/alembic.ini revision --autogenerate -m "..."``
(with VENTANILLA_DATABASE_URL pointing at a scratch database at head).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from backend.db import create_schema, make_engine
from backend.migrate import LegacySchemaError, current_revision, downgrade_to_base, head_revision
from backend.models import Base
from tests.backend.conftest import Database

ROOT = Path(__file__).resolve().parents[2]


def _models_metadata():  # type: ignore[no-untyped-def]
    """Base.metadata with every model module imported, as backend/migrations/env.py does."""
    import backend.accounts.models
    import backend.content.models
    import backend.interaction_models  # noqa: F401

    return Base.metadata


def test_upgrade_head_on_an_empty_database_matches_the_models(database: Database) -> None:
    engine = make_engine(database.url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), _models_metadata())
        assert diff == [], f"the migrations and the models differ; add a migration: {diff}"
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"cases", "case_status_changes", "consent_records", "notification_outbox", "audit_events"} <= tables
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_removes_everything(database: Database) -> None:
    engine = make_engine(database.url)
    try:
        create_schema(engine)
        create_schema(engine)  # a second start finds nothing to do
        downgrade_to_base(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        create_schema(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_once(database: Database) -> None:
    """The backend and the action server both migrate at start-up, often at the same moment."""
    code = "import sys; from backend.db import make_engine, create_schema; create_schema(make_engine(sys.argv[1]))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, database.url], cwd=ROOT, stderr=subprocess.PIPE) for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    engine = make_engine(database.url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_threads_migrating_together(database: Database) -> None:
    engine = make_engine(database.url)
    failures: list[BaseException] = []

    def migrate() -> None:
        try:
            create_schema(engine)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert failures == []
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_database_created_without_migrations_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    legacy = create_engine(url)
    with legacy.begin() as conn:
        conn.execute(text("CREATE TABLE cases (id INTEGER PRIMARY KEY, code VARCHAR(32))"))
    legacy.dispose()
    engine = make_engine(url)
    try:
        with pytest.raises(LegacySchemaError):
            create_schema(engine)
    finally:
        engine.dispose()


def test_the_alembic_command_line_uses_the_settings(tmp_path: Path) -> None:
    """People run `alembic -c backend/alembic.ini ...`; it must reach the configured database."""
    db = tmp_path / "cli.db"
    env = {"VENTANILLA_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    alembic = Path(sys.executable).with_name("alembic")
    result = subprocess.run(
        [str(alembic), "-c", "backend/alembic.ini", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [str(alembic), "-c", "backend/alembic.ini", "current"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert head_revision() in result.stdout
