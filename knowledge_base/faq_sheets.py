"""Reading FAQ sheets (CSV, XLSX, JSONL) into entries, reporting every bad row.

The columns are ``id, question, answer`` and optionally ``title, procedure_id,
source_url, last_reviewed`` (Spanish headers work too: ``pregunta, respuesta, titulo,
tramite, fuente, revisado``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from knowledge_base.import_entries import Entry, ImportProblem, slugify
from knowledge_base.schema import ID_PATTERN

FAQ_FORMATS = (".csv", ".xlsx", ".jsonl")
HEADER_ALIASES = {
    "id": "id",
    "question": "question",
    "pregunta": "question",
    "answer": "answer",
    "respuesta": "answer",
    "title": "title",
    "titulo": "title",
    "procedure_id": "procedure_id",
    "tramite": "procedure_id",
    "source_url": "source_url",
    "fuente": "source_url",
    "url": "source_url",
    "last_reviewed": "last_reviewed",
    "revisado": "last_reviewed",
}
REQUIRED = ("id", "question", "answer")
_ID_RE = re.compile(ID_PATTERN)


def _records(rows: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Numbered rows of cells -> the header first, then one dict per non-blank row.

    Shared by the CSV and XLSX readers: the first row is the header, blank rows are
    skipped, and short rows get empty cells for the missing columns.
    """
    header: list[str] | None = None
    for number, cells in rows:
        if header is None:
            header = cells
            yield 1, {"__header__": header}
            continue
        if not any(cell.strip() for cell in cells):
            continue
        yield (
            number,
            dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False)),
        )  # extra cells are dropped


def _rows_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text = path.read_text(encoding="utf-8-sig")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        # The sniffer guesses doublequote=False when a sample has no "" pair early enough, and
        # then a later quoted "" splits the cell. Every spreadsheet writes quotes doubled.
        dialect.doublequote = True
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    yield from _records((reader.line_num, row) for row in reader)


def _rows_xlsx(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        yield from _records(
            (number, ["" if v is None else (v.isoformat()[:10] if isinstance(v, date) else str(v)) for v in row])
            for number, row in enumerate(rows, 1)
        )
    finally:
        workbook.close()


def _rows_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, {"__error__": f"JSON inválido: {exc.msg}"}
            continue
        if not isinstance(data, dict):
            yield number, {"__error__": "cada línea debe ser un objeto JSON"}
            continue
        yield number, {k: "" if v is None else str(v) for k, v in data.items()}


def _normalise_header(names: Iterable[str]) -> dict[str, str]:
    mapping = {}
    for name in names:
        key = slugify(str(name)).replace("-", "_")
        if key in HEADER_ALIASES:
            mapping[str(name)] = HEADER_ALIASES[key]
    return mapping


def read_faq_rows(path: Path, today: date) -> tuple[list[Entry], list[ImportProblem]]:
    name = path.name
    rows = {".csv": _rows_csv, ".xlsx": _rows_xlsx, ".jsonl": _rows_jsonl}[path.suffix.lower()](path)
    entries: list[Entry] = []
    problems: list[ImportProblem] = []
    mapping: dict[str, str] | None = None
    seen_ids: dict[str, int] = {}
    seen_questions: dict[str, int] = {}
    for number, raw in rows:
        if "__header__" in raw:
            mapping = _normalise_header(raw["__header__"])
            missing = [c for c in REQUIRED if c not in mapping.values()]
            if missing:
                problems.append(ImportProblem(name, 1, "(encabezado)", f"faltan las columnas: {', '.join(missing)}"))
                return [], problems
            continue
        if "__error__" in raw:
            problems.append(ImportProblem(name, number, "(línea)", raw["__error__"]))
            continue
        if mapping is None:  # JSONL: every line names its fields
            row = {HEADER_ALIASES.get(slugify(k).replace("-", "_"), ""): v for k, v in raw.items()}
        else:
            row = {mapping[k]: v for k, v in raw.items() if k in mapping}
        row = {k: str(v).strip() for k, v in row.items() if k}
        before = len(problems)
        for column in REQUIRED:
            if not row.get(column):
                problems.append(ImportProblem(name, number, column, "falta o está vacío"))
        entry_id = row.get("id", "")
        if entry_id and not re.fullmatch(r"[\w.-]{1,80}", entry_id):
            problems.append(
                ImportProblem(name, number, "id", f"'{entry_id}' solo puede tener letras, números, '.', '-' y '_'")
            )
        if entry_id in seen_ids:
            problems.append(
                ImportProblem(name, number, "id", f"'{entry_id}' repetido (ya está en la línea {seen_ids[entry_id]})")
            )
        question = row.get("question", "")
        qkey = question.casefold().strip(" ¿?¡!.")
        if qkey and qkey in seen_questions:
            problems.append(
                ImportProblem(
                    name, number, "question", f"pregunta repetida (ya está en la línea {seen_questions[qkey]})"
                )
            )
        if question and len(question) < 8:
            problems.append(ImportProblem(name, number, "question", "demasiado corta (mínimo 8 caracteres)"))
        answer = row.get("answer", "")
        if answer and len(answer) < 20:
            problems.append(ImportProblem(name, number, "answer", "demasiado corta (mínimo 20 caracteres)"))
        procedure_id = row.get("procedure_id", "")
        if procedure_id and not _ID_RE.match(procedure_id):
            problems.append(
                ImportProblem(
                    name, number, "procedure_id", f"'{procedure_id}' no es un id válido (minúsculas y guiones)"
                )
            )
        source_url = row.get("source_url", "")
        if source_url and not source_url.startswith(("https://", "http://")):
            problems.append(ImportProblem(name, number, "source_url", "debe empezar con https://"))
        reviewed = row.get("last_reviewed", "") or today.isoformat()
        try:
            if date.fromisoformat(reviewed) > today:
                problems.append(ImportProblem(name, number, "last_reviewed", "la fecha está en el futuro"))
        except ValueError:
            problems.append(ImportProblem(name, number, "last_reviewed", f"'{reviewed}' no es una fecha AAAA-MM-DD"))
        if entry_id:
            seen_ids.setdefault(entry_id, number)
        if qkey:
            seen_questions.setdefault(qkey, number)
        if len(problems) == before:
            entries.append(
                Entry(
                    entry_id, "faq", question, answer, row.get("title", ""), procedure_id, source_url, reviewed, number
                )
            )
    if not entries and not problems:
        problems.append(ImportProblem(name, 0, "(archivo)", "no tiene filas"))
    return entries, problems
