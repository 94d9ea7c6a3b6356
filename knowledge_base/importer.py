"""Bulk content: FAQ sheets (CSV, XLSX, JSONL) and documents (Markdown, plain text).

Staff often have their content in a spreadsheet or in a long document. ``kb import``
reads such a file, checks every row (reporting *all* problems with file and line),
and writes a normalised copy to ``knowledge_base/imported/<name>.jsonl``, which
``kb build`` indexes together with the procedure files. Re-importing the same file
replaces that copy: rows that disappeared from the sheet disappear from the index.
``kb build --source FILE`` indexes one such file alone (``read_source``).

Reading is done by ``faq_sheets`` and ``document_chunks``; this module checks links,
turns entries into passages and keeps the ``imported/`` folder. A FAQ row with a
``procedure_id`` adds a frequent question to that procedure; a row without one is a
document of its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from knowledge_base.document_chunks import DOCUMENT_FORMATS, read_document
from knowledge_base.faq_sheets import FAQ_FORMATS, read_faq_rows
from knowledge_base.import_entries import Entry, ImportFailed, ImportProblem, slugify
from knowledge_base.index import DocumentMeta
from knowledge_base.passages import Passage

__all__ = [
    "Entry",
    "ImportFailed",
    "ImportProblem",
    "ImportReport",
    "import_file",
    "imported_passages",
    "read_entries",
    "read_source",
]


def _read(path: Path, today: date) -> tuple[list[Entry], list[ImportProblem]]:
    if not path.is_file():
        raise FileNotFoundError(f"No existe el archivo {path}")
    suffix = path.suffix.lower()
    if suffix in FAQ_FORMATS:
        return read_faq_rows(path, today)
    if suffix in DOCUMENT_FORMATS:
        return read_document(path, today)
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
