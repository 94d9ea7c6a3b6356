"""Side-by-side diff of two versions, over the field-per-line rendering (``rendering.field_lines``)."""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy.orm import Session

from backend.content import store
from backend.content.rendering import field_lines
from backend.content.types import DiffRow


def diff_data(left: dict[str, Any], right: dict[str, Any]) -> list[DiffRow]:
    """Rows for a two-column table; a replaced block pairs its lines as ``changed``."""
    a, b = field_lines(left), field_lines(right)
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            pairs = zip(range(i1, i2), range(j1, j2), strict=True)
            rows += [DiffRow("equal", i + 1, a[i], j + 1, b[j]) for i, j in pairs]
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        rows += [DiffRow("changed", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]) for k in range(paired)]
        rows += [DiffRow("removed", i + 1, a[i], None, "") for i in range(i1 + paired, i2)]
        rows += [DiffRow("added", None, "", j + 1, b[j]) for j in range(j1 + paired, j2)]
    return rows


def diff_versions(session: Session, *, procedure_id: str, left: int, right: int) -> list[DiffRow]:
    store.get_procedure(session, procedure_id)
    old = store.version_by_number(session, procedure_id, left)
    new = store.version_by_number(session, procedure_id, right)
    return diff_data(dict(old.data), dict(new.data))
