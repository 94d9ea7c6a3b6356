"""A throw-away PostgreSQL schema, for tests and benchmarks that share one server.

Each user gets a schema of its own and a URL whose ``search_path`` points at it, so
runs never see each other's tables and nothing is left behind afterwards, even when
the run fails. Lives in the package (not under ``tests/``) because ``bench/`` needs it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def scratch_schema(base_url: str, prefix: str = "t") -> Iterator[str]:
    """Creates a uniquely named schema, yields a URL that uses it, then drops it.

    ``base_url`` is a plain ``postgresql://`` URL without query parameters.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield f"{base_url}?options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()
