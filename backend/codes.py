"""Allocation of public case codes (EXP-YYYY-NNNNNN), safe under concurrency."""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.models import CaseCounter

DEFAULT_PREFIX = "EXP"
CODE_RE = re.compile(r"^([A-Z]{2,5})-(\d{4})-(\d{6})$")
_LOOSE_RE = re.compile(r"([a-z]{2,5})\W*(\d{4})\W*(\d{1,6})(?!\d)", re.IGNORECASE)


def next_code(session: Session, *, prefix: str, year: int) -> str:
    """Increments the year's counter in the caller's transaction and formats the code.

    ``UPDATE ... RETURNING`` takes a row lock (PostgreSQL) or the write lock (SQLite),
    so two transactions can never read the same value.
    """
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert  # type: ignore[union-attr]
    session.execute(insert(CaseCounter).values(year=year, last_value=0).on_conflict_do_nothing())
    value = session.execute(
        update(CaseCounter)
        .where(CaseCounter.year == year)
        .values(last_value=CaseCounter.last_value + 1)
        .returning(CaseCounter.last_value)
    ).scalar_one()
    return f"{prefix}-{year}-{value:06d}"


@lru_cache(maxsize=8)
def code_in_text_re(prefix: str = DEFAULT_PREFIX) -> re.Pattern[str]:
    """Case codes with ``prefix`` written anywhere in a text ("EXP-2026-000123", "exp 2026 123")."""
    return re.compile(rf"\b{re.escape(prefix)}[\s._/-]?(?:19|20)\d{{2}}[\s._/-]?\d{{1,6}}\b", re.IGNORECASE)


def normalize_code(text: str, prefix: str = DEFAULT_PREFIX) -> str | None:
    """'exp 2026 123', 'EXP2026000123' -> 'EXP-2026-000123'; None if it is not a code."""
    match = _LOOSE_RE.search(text.strip())
    if not match or match.group(1).upper() != prefix:
        return None
    return f"{prefix}-{match.group(2)}-{int(match.group(3)):06d}"
