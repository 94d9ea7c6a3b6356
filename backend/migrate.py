"""Brings a database to the newest schema with Alembic, safely from several processes.

The backend and the action server both call this at start-up, often at the same
moment and against the same database. A lock makes the second one wait and then
find nothing to do: a PostgreSQL advisory lock (held by the migration's own
transaction; PostgreSQL runs DDL transactionally), or a file lock next to the
SQLite file (SQLite lives on this machine by definition).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary constant identifying "Ventanilla schema migration" among advisory locks.
_PG_LOCK_KEY = 0x56454E54  # "VENT"


class LegacySchemaError(RuntimeError):
    """The database has case tables that no migration created."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head: str | None = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        revision: str | None = MigrationContext.configure(conn).get_current_revision()
        return revision


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _refuse_legacy_schema(connection: Connection) -> None:
    names = set(inspect(connection).get_table_names())
    if "cases" in names and "alembic_version" not in names:
        raise LegacySchemaError(
            "The case database has tables but no migration history (it was created before "
            "migrations existed). Back it up, then delete it (development) or stamp it by "
            "hand after checking the schema: alembic -c backend/alembic.ini stamp <revision>."
        )


def upgrade_to_head(engine: Engine) -> None:
    """Runs every pending migration; a no-op when the database is up to date."""
    if engine.dialect.name == "sqlite":
        with _sqlite_file_lock(engine), engine.begin() as conn:
            _refuse_legacy_schema(conn)
            command.upgrade(alembic_config(conn), "head")
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        _refuse_legacy_schema(conn)
        command.upgrade(alembic_config(conn), "head")


def downgrade_to_base(engine: Engine) -> None:
    """Drops everything the migrations created (tests and development only)."""
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
