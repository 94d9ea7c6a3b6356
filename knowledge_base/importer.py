"""Bulk content: FAQ sheets (CSV, XLSX, JSONL) and documents (Markdown, plain text).

Staff often have their content in a spreadsheet or in a long document. ``kb import``
reads such a file, checks every row (reporting *all* problems with file and line),
and writes a normalised copy to ``knowledge_base/imported/<name>.jsonl``, which
``kb build`` indexes together with the procedure files. Re-importing the same file
replaces that copy: rows that disappeared from the sheet disappear from the index.
``kb build --source FILE`` indexes one such file alone (``read_source``).

FAQ sheets have the columns ``id, question, answer`` and optionally ``title,
procedure_id, source_url, last_reviewed`` (Spanish headers work too: ``pregunta,
respuesta, titulo, tramite, fuente, revisado``). A row with a ``procedure_id``
adds a frequent question to that procedure; a row without one is a document of
its own. Documents are cut into passages of about ``MAX_WORDS`` words at headings
and paragraph breaks; an optional YAML front matter gives ``title``,
``source_url``, ``procedure_id`` and ``last_reviewed``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from knowledge_base.index import DocumentMeta
from knowledge_base.passages import Passage
from knowledge_base.schema import ID_PATTERN

FAQ_FORMATS = (".csv", ".xlsx", ".jsonl")
DOCUMENT_FORMATS = (".md", ".markdown", ".txt")
MAX_WORDS = 120
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


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int  # 0: the whole file
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class ImportFailed(ValueError):
    """Raised with every problem of a file; nothing is written when it is raised."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        more = f"\n... y {len(problems) - 50} problema(s) más" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problema(s) en la importación:\n{shown}{more}")


@dataclass(frozen=True)
class Entry:
    """One normalised imported unit: a frequent question, or a chunk of a document."""

    id: str
    kind: str  # "faq" | "chunk"
    question: str  # the FAQ question, or the heading of the chunk ("" if none)
    answer: str  # the text shown to citizens
    title: str  # the document's title ("" for a FAQ that belongs to a procedure)
    procedure_id: str  # "" when it is not attached to a procedure
    source_url: str
    last_reviewed: str  # ISO date
    line: int = 0  # where it came from, for error messages (not stored)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("line")
        return json.dumps(data, ensure_ascii=False)

    def comparable(self) -> tuple[str, ...]:
        return (
            self.kind,
            self.question,
            self.answer,
            self.title,
            self.procedure_id,
            self.source_url,
            self.last_reviewed,
        )


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-") or "documento"


# --- reading FAQ sheets ---------------------------------------------------------------


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
        yield number, dict(zip(header, cells + [""] * (len(header) - len(cells))))


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


def _read_faq_rows(path: Path, today: date) -> tuple[list[Entry], list[ImportProblem]]:
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


# --- reading documents ---------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _split_long(paragraph: str, max_words: int) -> list[str]:
    if len(paragraph.split()) <= max_words:
        return [paragraph]
    pieces, current = [], []
    for sentence in _SENTENCE_END.split(paragraph):
        words = sentence.split()
        while len(words) > max_words:  # one huge sentence: cut it by words
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if current and len(current) + len(words) > max_words:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        pieces.append(" ".join(current))
    return pieces


def chunk_document(text: str, max_words: int = MAX_WORDS) -> list[tuple[str, str]]:
    """(heading, passage) pairs: cut at headings, then paragraphs packed up to ``max_words``."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    paragraph: list[str] = []

    def close_paragraph() -> None:
        if paragraph:
            sections[-1][1].append(" ".join(line.strip() for line in paragraph))
            paragraph.clear()

    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            close_paragraph()
            sections.append((match.group(2).strip(), []))
        elif not line.strip():
            close_paragraph()
        else:
            paragraph.append(line)
    close_paragraph()
    chunks: list[tuple[str, str]] = []
    for heading, paragraphs in sections:
        current: list[str] = []
        for para in (piece for p in paragraphs for piece in _split_long(p, max_words)):
            if current and len(" ".join(current).split()) + len(para.split()) > max_words:
                chunks.append((heading, "\n".join(current)))
                current = []
            current.append(para)
        if current:
            chunks.append((heading, "\n".join(current)))
    return chunks


def _read_document(path: Path, today: date) -> tuple[list[Entry], list[ImportProblem]]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [], [ImportProblem(name, 0, "(archivo)", "no está en UTF-8")]
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            return [], [ImportProblem(name, 1, "(encabezado YAML)", f"no se puede leer: {exc}".replace("\n", " "))]
        if not isinstance(loaded, dict):
            return [], [ImportProblem(name, 1, "(encabezado YAML)", "debe ser un mapa")]
        meta = {str(k): v for k, v in loaded.items()}
        text = text[match.end() :]
    problems: list[ImportProblem] = []
    unknown = sorted(set(meta) - {"title", "source_url", "procedure_id", "last_reviewed"})
    if unknown:
        problems.append(ImportProblem(name, 1, ", ".join(unknown), "campo desconocido en el encabezado"))
    title = str(meta.get("title") or "").strip()
    if not title:
        first = next((m.group(2) for m in map(_HEADING.match, text.splitlines()) if m and m.group(1) == "#"), "")
        title = first or path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    source_url = str(meta.get("source_url") or "").strip()
    if source_url and not source_url.startswith(("https://", "http://")):
        problems.append(ImportProblem(name, 1, "source_url", "debe empezar con https://"))
    procedure_id = str(meta.get("procedure_id") or "").strip()
    if procedure_id and not _ID_RE.match(procedure_id):
        problems.append(ImportProblem(name, 1, "procedure_id", f"'{procedure_id}' no es un id válido"))
    reviewed = str(meta.get("last_reviewed") or today.isoformat())
    try:
        date.fromisoformat(reviewed)
    except ValueError:
        problems.append(ImportProblem(name, 1, "last_reviewed", f"'{reviewed}' no es una fecha AAAA-MM-DD"))
    chunks = [(h, c) for h, c in chunk_document(text) if c.strip() and c.strip() != title]
    if not chunks:
        problems.append(ImportProblem(name, 0, "(archivo)", "no tiene texto para indexar"))
    if problems:
        return [], problems
    entries = []
    counters: dict[str, int] = {}
    for heading, chunk in chunks:
        base = slugify(heading) if heading else "texto"
        counters[base] = counters.get(base, 0) + 1
        entries.append(
            Entry(f"{base}-{counters[base]}", "chunk", heading, chunk, title, procedure_id, source_url, reviewed)
        )
    return entries, []


def _read(path: Path, today: date) -> tuple[list[Entry], list[ImportProblem]]:
    if not path.is_file():
        raise FileNotFoundError(f"No existe el archivo {path}")
    suffix = path.suffix.lower()
    if suffix in FAQ_FORMATS:
        return _read_faq_rows(path, today)
    if suffix in DOCUMENT_FORMATS:
        return _read_document(path, today)
    formats = ", ".join(FAQ_FORMATS + DOCUMENT_FORMATS)
    return [], [ImportProblem(path.name, 0, "(archivo)", f"formato no soportado; use {formats}")]


def read_checked(path: Path, *, today: date | None = None) -> tuple[list[Entry], list[ImportProblem]]:
    """The valid entries and every problem, without raising (the staff console shows both)."""
    return _read(path, today or date.today())


def read_entries(path: Path, *, today: date | None = None) -> list[Entry]:
    """Every entry of a FAQ sheet or document; raises ``ImportFailed`` with all problems."""
    entries, problems = _read(path, today or date.today())
    if problems:
        raise ImportFailed(problems)
    return entries


# --- entries -> passages ------------------------------------------------------------------------


def document_key(name: str, entry: Entry) -> str:
    """The document an entry belongs to when it is not attached to a procedure."""
    return name if entry.kind == "chunk" else f"{name}:{entry.id}"


def _broken_links(name: str, entries: list[Entry], procedures: dict[str, DocumentMeta]) -> list[ImportProblem]:
    return [
        ImportProblem(name, entry.line, "procedure_id", f"enlace roto: no existe el trámite '{entry.procedure_id}'")
        for entry in entries
        if entry.procedure_id and entry.procedure_id not in procedures
    ]


def entries_to_passages(
    name: str, entries: list[Entry], procedures: dict[str, DocumentMeta] | None
) -> tuple[list[Passage], dict[str, DocumentMeta]]:
    """Passages and the new documents they need.

    With ``procedures`` (the shipped content), a ``procedure_id`` must name one of
    them and the entry joins it. Without (``kb build --source``), ``procedure_id``
    just groups entries into one document.
    """
    if procedures is not None:
        broken = _broken_links(name, entries, procedures)
        if broken:
            raise ImportFailed(broken)
    passages: list[Passage] = []
    documents: dict[str, DocumentMeta] = {}
    for entry in entries:
        if entry.procedure_id and procedures is not None:
            owner = entry.procedure_id
            head = procedures[owner].title
        else:
            owner = entry.procedure_id or document_key(name, entry)
            title = entry.title or (entry.question if entry.kind == "faq" else name)
            head = title
            if owner not in documents:
                documents[owner] = DocumentMeta(title, entry.source_url, entry.last_reviewed, "imported")
        pid = f"{owner}#{name}:{entry.id}"
        if entry.kind == "faq":
            passages.append(
                Passage(
                    pid, owner, "faq", "faq", entry.question, entry.answer, f"{head}. {entry.question} {entry.answer}"
                )
            )
            passages.append(
                Passage(
                    f"{pid}-q", owner, "faq_question", "faq", entry.question, entry.answer, f"{head}. {entry.question}"
                )
            )
        else:
            label = entry.question or head
            heading = f"{head}. {entry.question}" if entry.question else head
            passages.append(
                Passage(pid, owner, "imported", "imported", label, entry.answer, f"{heading}: {entry.answer}")
            )
    return passages, documents


def read_source(path: Path) -> tuple[list[Passage], dict[str, DocumentMeta]]:
    """A file's passages and documents on their own (``kb build --source FILE``)."""
    return entries_to_passages(slugify(path.stem), read_entries(path), None)


# --- the imported/ folder ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    name: str
    target: Path
    added: list[Entry]
    changed: list[Entry]
    removed: list[Entry]
    unchanged: int

    def lines(self) -> list[str]:
        out = []
        for sign, verb, items in (
            ("+", "agregar", self.added),
            ("~", "cambiar", self.changed),
            ("-", "quitar", self.removed),
        ):
            for e in items:
                shown = e.question or e.answer.split("\n")[0]
                out.append(f"  {sign} {verb:8s} {e.id}: {shown[:90]}")
        out.append(
            f"Resumen: {len(self.added)} nueva(s), {len(self.changed)} cambiada(s), "
            f"{len(self.removed)} quitada(s), {self.unchanged} sin cambios."
        )
        return out


def load_imported_file(path: Path) -> list[Entry]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                entries.append(Entry(**json.loads(line), line=number))
            except (json.JSONDecodeError, TypeError) as exc:
                raise ImportFailed([ImportProblem(path.name, number, "(línea)", f"inválida: {exc}")]) from exc
    return entries


def imported_passages(
    imported_dir: Path, procedures: dict[str, DocumentMeta]
) -> tuple[list[Passage], dict[str, DocumentMeta]]:
    """Everything ``kb import`` stored, as passages for ``kb build``."""
    passages: list[Passage] = []
    documents: dict[str, DocumentMeta] = {}
    for path in sorted(imported_dir.glob("*.jsonl")) if imported_dir.is_dir() else []:
        more, docs = entries_to_passages(path.stem, load_imported_file(path), procedures)
        passages.extend(more)
        documents.update(docs)
    return passages, documents


def import_file(
    path: Path, imported_dir: Path, procedures: dict[str, DocumentMeta], *, dry_run: bool, name: str | None = None
) -> ImportReport:
    """Reads, checks, and (unless ``dry_run``) stores ``path`` as ``imported/<name>.jsonl``."""
    name = slugify(name or path.stem)
    entries, problems = _read(path, date.today())
    # Rows with other problems are left out of `entries`; the links of the rest are checked too,
    # so that one run reports everything. Problems are named after the file being imported.
    problems += [ImportProblem(path.name, p.line, p.field, p.message) for p in _broken_links(name, entries, procedures)]
    if problems:
        raise ImportFailed(sorted(problems, key=lambda p: p.line))
    target = imported_dir / f"{name}.jsonl"
    old = {e.id: e for e in load_imported_file(target)} if target.exists() else {}
    new = {e.id: e for e in entries}
    added = [e for i, e in new.items() if i not in old]
    changed = [e for i, e in new.items() if i in old and old[i].comparable() != e.comparable()]
    removed = [e for i, e in old.items() if i not in new]
    report = ImportReport(name, target, added, changed, removed, len(new) - len(added) - len(changed))
    if not dry_run:
        imported_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text("".join(e.to_json() + "\n" for e in entries), encoding="utf-8")
        os.replace(tmp, target)
    return report
