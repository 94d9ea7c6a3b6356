"""Reading documents (Markdown, plain text) into entries: passages of about ``MAX_WORDS``
words cut at headings and paragraph breaks; an optional YAML front matter gives ``title``,
``source_url``, ``procedure_id`` and ``last_reviewed``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.import_entries import Entry, ImportProblem, slugify
from knowledge_base.schema import ID_PATTERN

DOCUMENT_FORMATS = (".md", ".markdown", ".txt")
MAX_WORDS = 120
_ID_RE = re.compile(ID_PATTERN)

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _split_long(paragraph: str, max_words: int) -> list[str]:
    if len(paragraph.split()) <= max_words:
        return [paragraph]
    pieces: list[str] = []
    current: list[str] = []
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


def read_document(path: Path, today: date) -> tuple[list[Entry], list[ImportProblem]]:
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
