"""Loading and checking the procedure files staff edit.

``load_content`` never stops at the first problem: staff fix a batch of files at
once, so every problem is reported with its file and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge_base.schema import Procedure

EXPECTED_URL_PREFIX = "https://"


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


def _field_path(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(archivo)"


def load_content(
    content_dir: Path, *, today: date | None = None, stale_after_days: int = 365
) -> tuple[list[Procedure], list[Problem]]:
    """Parses every ``*.yml`` in ``content_dir``; returns the valid procedures and all problems."""
    today = today or date.today()
    procedures: list[Procedure] = []
    problems: list[Problem] = []
    raw_files: list[tuple[str, dict[str, object]]] = []  # also invalid ones: links are checked in all
    files = sorted(content_dir.glob("*.yml"))
    if not files:
        problems.append(Problem(str(content_dir), "(carpeta)", "no hay archivos .yml de trámites"))
    for path in files:
        name = path.name
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(Problem(name, "(yaml)", f"no se puede leer: {exc}".replace("\n", " ")))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(name, "(archivo)", "debe ser un mapa YAML con los campos del trámite"))
            continue
        raw_files.append((name, raw))
        procedure, found = check_procedure(
            name, raw, expected_id=path.stem, today=today, stale_after_days=stale_after_days
        )
        problems.extend(found)
        if procedure is None:
            continue
        procedures.append(procedure)
    problems.extend(_cross_file_problems(procedures, raw_files))
    return procedures, problems


def check_procedure(
    name: str, raw: dict[str, object], *, expected_id: str, today: date, stale_after_days: int
) -> tuple[Procedure | None, list[Problem]]:
    """The checks of one procedure on its own (schema, id, https link, review date, repeated FAQs).

    Shared by ``kb validate`` and the staff console, so both refuse exactly the same content.
    Returns the procedure (None if the schema refuses it) and every problem found.
    """
    problems: list[Problem] = []
    try:
        procedure = Procedure.model_validate(raw)
    except ValidationError as exc:
        return None, [Problem(name, _field_path(error["loc"]), error["msg"]) for error in exc.errors()]
    if procedure.id != expected_id:
        problems.append(Problem(name, "id", f"'{procedure.id}' no coincide con el nombre del archivo"))
    if not str(procedure.source_url).startswith(EXPECTED_URL_PREFIX):
        problems.append(Problem(name, "source_url", "el enlace debe usar https"))
    if procedure.last_reviewed < today - timedelta(days=stale_after_days):
        problems.append(
            Problem(
                name, "last_reviewed", f"sin revisar desde {procedure.last_reviewed} (más de {stale_after_days} días)"
            )
        )
    if procedure.last_reviewed > today:
        problems.append(Problem(name, "last_reviewed", "la fecha está en el futuro"))
    seen: set[str] = set()
    for i, faq in enumerate(procedure.faqs):
        key = faq_key(faq.question)
        if key in seen:
            problems.append(Problem(name, f"faqs.{i}.question", f"pregunta repetida: {faq.question}"))
        seen.add(key)
    return procedure, problems


def faq_key(question: str) -> str:
    """How two questions are compared for repetition (case and opening/closing marks ignored)."""
    return question.casefold().strip(" ¿?¡!.")


def related_problems(name: str, raw: dict[str, object], known_ids: set[str]) -> list[Problem]:
    """Broken ``related_procedures`` links of one procedure."""
    related = raw.get("related_procedures")
    return [
        Problem(name, f"related_procedures.{i}", f"enlace roto: no existe el trámite '{target}'")
        for i, target in enumerate(related if isinstance(related, list) else [])
        if target not in known_ids
    ]


def _cross_file_problems(procedures: list[Procedure], raw_files: list[tuple[str, dict[str, object]]]) -> list[Problem]:
    problems = []
    ids: dict[str, int] = {}
    for _, raw in raw_files:
        if isinstance(raw.get("id"), str):
            ids[str(raw["id"])] = ids.get(str(raw["id"]), 0) + 1
    for pid, count in ids.items():
        if count > 1:
            problems.append(Problem(f"{pid}.yml", "id", f"id repetido en {count} archivos"))
    for name, raw in raw_files:
        problems.extend(related_problems(name, raw, set(ids)))
    urls: dict[str, str] = {}
    for p in procedures:
        url = str(p.source_url)
        if url in urls and urls[url] != p.id:
            problems.append(Problem(f"{p.id}.yml", "source_url", f"mismo enlace que {urls[url]}.yml"))
        urls[url] = p.id
    return problems
