"""The procedure edit form: the schema dict <-> flat form fields, and errors -> fields.

Field names are the schema's paths with dots (``title``, ``channels.online``,
``offices.0.hours``, ``faqs.2.answer``), the same paths ``ValidationFailed`` reports,
so each error lands next to its field. Lists of strings are one item per line.
Empty repeated rows (the blank FAQ/office rows offered for adding) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TEXT_FIELDS: list[tuple[str, str, bool]] = [  # (path, label, multi-line)
    ("title", "Nombre del trámite", False),
    ("summary", "Qué es (resumen)", True),
    ("owner_office", "Oficina responsable", False),
    ("last_reviewed", "Última revisión (AAAA-MM-DD)", False),
    ("source_url", "Página oficial (https)", False),
    ("who_can_apply", "Quién puede hacerlo", True),
    ("cost", "Costo", True),
    ("processing_time", "Plazo", True),
    ("channels.online", "Dónde hacerlo: en línea", True),
    ("channels.in_person", "Dónde hacerlo: en persona", True),
    ("legal_basis", "Normativa", True),
]
LINE_LIST_FIELDS: list[tuple[str, str]] = [
    ("keywords", "Palabras clave (una por línea)"),
    ("requirements", "Requisitos (uno por línea)"),
    ("steps", "Pasos (uno por línea)"),
    ("related_procedures", "Trámites relacionados (identificadores, uno por línea)"),
]
GROUPS: dict[str, list[tuple[str, str]]] = {
    "offices": [("name", "Nombre"), ("address", "Dirección"), ("hours", "Horario"), ("phone", "Teléfono (opcional)")],
    "faqs": [
        ("question", "Pregunta"),
        ("answer", "Respuesta"),
        ("paraphrases", "Otras formas de preguntarlo (una por línea, opcional)"),
    ],
}
BLANK_ROWS = {"offices": 1, "faqs": 2}
_GROUP_KEY = re.compile(r"^(offices|faqs)\.(\d{1,3})\.(\w+)$")


def field_id(path: str) -> str:
    return "f-" + path.replace(".", "-").replace("_", "-")


def _get(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class FormView:
    """What the template needs: plain strings per field, group rows with blanks appended."""

    procedure_id: str
    values: dict[str, str]
    groups: dict[str, list[dict[str, str]]]


def _cell(value: Any) -> str:
    """A group cell as text: lists (FAQ paraphrases) one item per line."""
    if value is None:
        return ""
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def to_view(procedure_id: str, data: dict[str, Any]) -> FormView:
    values: dict[str, str] = {}
    for path, _label, _multi in TEXT_FIELDS:
        value = _get(data, path)
        values[path] = "" if value is None else str(value)
    for path, _label in LINE_LIST_FIELDS:
        items = _get(data, path) or []
        values[path] = "\n".join(str(i) for i in items) if isinstance(items, list) else str(items)
    groups: dict[str, list[dict[str, str]]] = {}
    for name, columns in GROUPS.items():
        rows = [
            {key: _cell((row or {}).get(key)) for key, _ in columns}
            for row in (data.get(name) or [])
            if isinstance(row, dict)
        ]
        rows += [{key: "" for key, _ in columns} for _ in range(BLANK_ROWS[name])]
        groups[name] = rows
    return FormView(procedure_id=procedure_id, values=values, groups=groups)


def from_form(procedure_id: str, items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """The schema dict from posted fields (unknown fields ignored; validation is the service's)."""
    flat: dict[str, str] = {}
    rows: dict[str, dict[int, dict[str, str]]] = {name: {} for name in GROUPS}
    for key, raw in items:
        if not isinstance(raw, str):
            continue
        value = raw.replace("\r\n", "\n").strip()
        match = _GROUP_KEY.match(key)
        if match:
            group, index, column = match.group(1), int(match.group(2)), match.group(3)
            if column in {c for c, _ in GROUPS[group]}:
                rows[group].setdefault(index, {})[column] = value
        else:
            flat[key] = value
    data: dict[str, Any] = {"id": procedure_id}
    for path, _label, _multi in TEXT_FIELDS:
        value = flat.get(path, "")
        if "." in path:
            parent, child = path.split(".", 1)
            data.setdefault(parent, {})[child] = value
        else:
            data[path] = value
    for path, _label in LINE_LIST_FIELDS:
        data[path] = [line.strip() for line in flat.get(path, "").split("\n") if line.strip()]
    for group, by_index in rows.items():
        kept: list[dict[str, Any]] = []
        for _, row in sorted(by_index.items()):
            if not any(row.values()):
                continue
            if group == "offices" and not row.get("phone"):
                row = {k: v for k, v in row.items() if k != "phone"}
            item: dict[str, Any] = dict(row)
            if group == "faqs":
                lines = [line.strip() for line in str(item.pop("paraphrases", "")).split("\n") if line.strip()]
                if not any(item.values()):
                    continue
                if lines:
                    item["paraphrases"] = lines
            kept.append(item)
        data[group] = kept
    return data


def errors_by_field(problems: list[tuple[str, str]], known: Iterable[str]) -> dict[str, str]:
    """Each problem under the deepest known field its path starts with (``requirements.2`` -> ``requirements``)."""
    known_set = set(known)
    found: dict[str, str] = {}
    for path, message in problems:
        target = path
        while target and target not in known_set:
            target = target.rsplit(".", 1)[0] if "." in target else ""
        key = target or "(general)"
        found[key] = f"{found[key]} {message}" if key in found else message
    return found


def known_fields(view: FormView) -> list[str]:
    names = [p for p, _l, _m in TEXT_FIELDS] + [p for p, _l in LINE_LIST_FIELDS] + ["id"]
    for group, rows in view.groups.items():
        names.append(group)
        for index in range(len(rows)):
            names += [f"{group}.{index}"] + [f"{group}.{index}.{c}" for c, _ in GROUPS[group]]
    return names
