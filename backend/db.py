"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """Creates an engine; for SQLite also the folder, WAL mode and a busy timeout.

    WAL and the timeout let the action server and the staff API write the same file
    without "database is locked" errors under ordinary load. ``postgresql://`` URLs
    use psycopg 3 (the driver in requirements/app.txt).
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # hide_parameters: a failed statement's exception text would otherwise carry the
    # values being written (names, contacts) into the logs.
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow, hide_parameters=True)


def create_schema(engine: Engine) -> None:
    """Brings the database to the newest schema by running the Alembic migrations.

    Idempotent and safe when several processes start at once (see backend.migrate).
    """
    from backend.migrate import upgrade_to_head

    upgrade_to_head(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
