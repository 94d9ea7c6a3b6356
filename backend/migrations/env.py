"""Alembic environment for the case store.

Used two ways: programmatically by ``backend.migrate.upgrade_to_head`` (which passes
an open connection in ``config.attributes["connection"]``), and from the command line
(``alembic -c backend/alembic.ini upgrade head``), which connects to the database of
the settings (``VENTANILLA_DATABASE_URL`` or the SQLite file under ``var/``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

# Every model module registers its tables on Base.metadata (autogenerate compares them).
import backend.accounts.models
import backend.analytics.models
import backend.content.models
import backend.interaction_models
import backend.unanswered.models  # noqa: F401
from backend.models import Base

target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    if context.config.config_file_name:  # the command line: show what runs
        from logging.config import fileConfig

        fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    from backend.db import make_engine
    from backend.settings import StoreSettings

    engine = make_engine(StoreSettings().effective_database_url)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them against a database.")
run_migrations_online()
