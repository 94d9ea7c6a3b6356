"""Everything one index is built from: procedures, imported content, rewrite rules, out-of-scope topics."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from knowledge_base.content import Problem, load_content
from knowledge_base.importer import ImportFailed, imported_passages, load_imported_file
from knowledge_base.index import DocumentMeta
from knowledge_base.out_of_scope import load_topics
from knowledge_base.passages import Passage, all_passages
from knowledge_base.rewrite import QueryRewriter, load_rules
from knowledge_base.schema import Procedure
from knowledge_base.settings import SearchSettings

# Bump when the way passages or lexical terms are built changes, so cached indexes are rebuilt.
INDEX_FORMAT = "4"


@dataclass
class Corpus:
    passages: list[Passage]
    documents: dict[str, DocumentMeta]
    out_of_scope: list[str]  # texts to embed
    rewriter: QueryRewriter
    problems: list[Problem] = field(default_factory=list)


def search_aids(settings: SearchSettings) -> tuple[QueryRewriter, list[str], list[Problem]]:
    """The rewrite rules and out-of-scope topics, with their problems."""
    rewriter, rule_problems = load_rules(settings.synonyms_file)
    topics, topic_problems = load_topics(settings.out_of_scope_file)
    problems = [Problem(settings.synonyms_file.name, f, m) for f, m in rule_problems]
    problems += [Problem(settings.out_of_scope_file.name, f, m) for f, m in topic_problems]
    return rewriter, [t.embed_text() for t in topics], problems


def load_corpus(settings: SearchSettings, *, today: date | None = None) -> Corpus:
    """The shipped knowledge base: procedure files plus everything ``kb import`` stored."""
    today = today or date.today()
    procedures, problems = load_content(settings.content_dir, today=today, stale_after_days=settings.stale_after_days)
    corpus = corpus_from_procedures(procedures, settings)
    corpus.problems[:0] = problems
    corpus.problems.extend(
        _imported_problems(
            settings,
            procedures_questions={f.question.casefold().strip(" ¿?¡!.") for p in procedures for f in p.faqs},
            today=today,
        )
    )
    return corpus


def corpus_from_procedures(procedures: list[Procedure], settings: SearchSettings) -> Corpus:
    """An index's input from given procedures (the files, or the console's published content).

    Imported sheets and documents, rewrite rules and out-of-scope topics always come
    from this folder's files.
    """
    documents = {p.id: DocumentMeta(p.title, str(p.source_url), p.last_reviewed.isoformat()) for p in procedures}
    passages = all_passages(procedures)
    problems: list[Problem] = []
    try:
        extra_passages, extra_documents = imported_passages(settings.imported_dir, documents)
    except ImportFailed as exc:
        problems.extend(Problem(f"imported/{p.file}", f"línea {p.line}: {p.field}", p.message) for p in exc.problems)
        extra_passages, extra_documents = [], {}
    passages.extend(extra_passages)
    documents.update(extra_documents)
    rewriter, out_of_scope, aid_problems = search_aids(settings)
    problems.extend(aid_problems)
    return Corpus(passages, documents, out_of_scope, rewriter, problems)


def _imported_problems(settings: SearchSettings, procedures_questions: set[str], today: date) -> list[Problem]:
    """Stale imported entries, and imported questions that repeat a procedure's FAQ."""
    problems = []
    limit = today - timedelta(days=settings.stale_after_days)
    for path in sorted(settings.imported_dir.glob("*.jsonl")) if settings.imported_dir.is_dir() else []:
        try:
            entries = load_imported_file(path)
        except ImportFailed:
            continue  # already reported by load_corpus
        for e in entries:
            where = f"imported/{path.name}"
            if date.fromisoformat(e.last_reviewed) < limit:
                problems.append(
                    Problem(
                        where,
                        f"{e.id}.last_reviewed",
                        f"sin revisar desde {e.last_reviewed} (más de {settings.stale_after_days} días)",
                    )
                )
            if e.kind == "faq" and e.question.casefold().strip(" ¿?¡!.") in procedures_questions:
                problems.append(
                    Problem(where, f"{e.id}.question", f"pregunta repetida: ya está en un trámite ({e.question})")
                )
    return problems


def fingerprint(settings: SearchSettings) -> str:
    """Changes whenever anything the index is built from, or the embedding back end, changes."""
    digest = hashlib.sha256(f"{INDEX_FORMAT}:{settings.embedder}:{settings.model}".encode())
    files: list[Path] = sorted(settings.content_dir.glob("*.yml"))
    if settings.imported_dir.is_dir():
        files += sorted(settings.imported_dir.glob("*.jsonl"))
    files += [f for f in (settings.synonyms_file, settings.out_of_scope_file) if f.exists()]
    for path in files:
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
