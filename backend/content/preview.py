""" "What would the bot answer?" with a draft, before it is published.

The published index is searched with this procedure's own passages replaced by the
draft's (vectors reused where the text is unchanged, the rest embedded), in memory:
same rewrite rules, same scoring, same abstention threshold as the bot, and the
answer text the bot would send (``actions.knowledge.answer_text``).
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
from sqlalchemy.orm import Session

from backend.content import store
from backend.content.errors import NotFound, ValidationFailed
from backend.content.publishing import Publisher
from backend.content.types import Preview, PreviewHit
from backend.content.validation import validate
from knowledge_base.index import DocumentMeta, LoadedIndex, assemble_index
from knowledge_base.lexical import Bm25Index, analyze_many
from knowledge_base.passages import Passage, procedure_passages
from knowledge_base.schema import Procedure
from knowledge_base.search import Hit, Searcher


def _own(passage: Passage, procedure_id: str) -> bool:
    """A passage generated from the procedure itself (not an imported row attached to it)."""
    return passage.procedure_id == procedure_id and ":" not in passage.passage_id.split("#", 1)[-1]


def with_draft(served: LoadedIndex, draft: Procedure, publisher: Publisher) -> LoadedIndex:
    """The served index with ``draft``'s passages in place of its published ones."""
    kept = [i for i, p in enumerate(served.passages) if not _own(p, draft.id)]
    fresh = procedure_passages(draft)
    known = {p.embed_text: i for i, p in enumerate(served.passages)}
    missing = [p.embed_text for p in fresh if p.embed_text not in known]
    embedded = dict(zip(missing, publisher.embedder().embed_passages(missing), strict=True)) if missing else {}
    new_vectors = np.stack(
        [embedded[p.embed_text] if p.embed_text in embedded else served.matrix[known[p.embed_text]] for p in fresh]
    )
    matrix = np.ascontiguousarray(np.vstack([served.matrix[kept], new_vectors]), dtype=np.float32)
    vectors = faiss.IndexFlatIP(matrix.shape[1])
    vectors.add(matrix)
    passages = [served.passages[i] for i in kept] + fresh
    documents = dict(served.documents)
    documents[draft.id] = DocumentMeta(draft.title, str(draft.source_url), draft.last_reviewed.isoformat())
    return assemble_index(
        f"{served.version}+borrador-{draft.id}",
        dict(served.manifest),
        passages,
        documents,
        vectors,
        Bm25Index.build(analyze_many(p.embed_text for p in passages)),
        served.out_of_scope,
        served.rewriter,
        served.out_of_scope_texts,
    )


def _hit(hit: Hit) -> PreviewHit:
    from actions.knowledge import answer_text

    return PreviewHit(
        hit.procedure_id,
        hit.document.title,
        hit.passage.label,
        answer_text(hit),
        round(hit.score, 4),
        hit.document.source_url,
    )


def preview(
    session: Session, *, procedure_id: str, question: str, publisher: Publisher, data: dict[str, Any] | None
) -> Preview:
    if data is None:
        procedure = store.get_procedure(session, procedure_id)
        data = store.current_data(session, procedure)
        if data is None:
            raise NotFound(f"El trámite '{procedure_id}' no tiene contenido.")
    if not question.strip():
        raise ValidationFailed([("question", "Escriba una pregunta como la haría un ciudadano.")])
    draft = validate(session, procedure_id=procedure_id, data=data)
    served = publisher.served()
    if served is None:
        raise NotFound("Todavía no hay un índice de búsqueda publicado.")
    searcher = Searcher(with_draft(served, draft, publisher), publisher.embedder(), publisher.settings)
    result = searcher.search(question)
    return Preview(
        question=question,
        abstained=result.abstained,
        confidence=round(result.confidence, 4),
        threshold=searcher.tuning.abstain_threshold,
        hits=[_hit(h) for h in result.hits],
        closest=[_hit(h) for h in result.closest],
    )
