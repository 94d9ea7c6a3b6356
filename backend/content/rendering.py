"""One canonical form of a procedure: the dict stored, its hash, its YAML file and its diff lines.

Files, database and diffs must agree on what "the same content" means, otherwise
the files <-> database rule would see changes where there are none. Everything
goes through the validated schema's JSON dump, so key order, dates and URLs are
always written the same way.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from knowledge_base.schema import Procedure


def canonical(procedure: Procedure) -> dict[str, Any]:
    """The schema's dict in field order, JSON types only (what a version stores).

    An FAQ without paraphrases has no ``paraphrases`` key, so content written before
    they existed keeps its hash and its files.
    """
    data = procedure.model_dump(mode="json", exclude_none=True)
    for faq in data.get("faqs", []):
        if not faq.get("paraphrases"):
            faq.pop("paraphrases", None)
    return data


def content_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def to_yaml(data: dict[str, Any]) -> str:
    """The procedure file's text (UTF-8, block style, long lines unwrapped)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000, default_flow_style=False)


def field_lines(data: dict[str, Any]) -> list[str]:
    """One line per field value (``faqs.2.answer: ...``), stable for line diffs.

    A multi-line value continues on indented lines, so a changed paragraph shows as
    changed lines of that field only.
    """
    lines: list[str] = []

    def emit(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                emit(f"{path}.{key}" if path else str(key), item)
        elif isinstance(value, list):
            if not value:
                lines.append(f"{path}: (vacío)")
            for i, item in enumerate(value, 1):
                emit(f"{path}.{i}", item)
        else:
            first, *rest = str(value).split("\n") or [""]
            lines.append(f"{path}: {first}")
            lines.extend(f"    {more}" for more in rest)

    emit("", data)
    return lines
