"""What an editor turns a group of unanswered questions into.

Each action takes the group's row ids (as the inbox showed them), keeps the ones still
open (another editor may have acted meanwhile), does its work, marks them handled and
writes one audit row, all in one transaction: the content service's ``save_draft``
commits the draft together with the rows' new status, and rolls both back when it
refuses. Content changes are drafts: they reach citizens only after part 1's review.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from backend import audit
from backend.content import service as content
from backend.unanswered import store
from backend.unanswered.models import Status
from knowledge_base.out_of_scope import OutOfScopeTopic, load_topics

MAX_PARAPHRASES = 40


class NothingOpen(ValueError):
    """Every row of the group was handled already (by someone else, or a double submit)."""

    def __init__(self) -> None:
        super().__init__("Estas preguntas ya fueron atendidas. La bandeja se actualizó.")


def usable_paraphrases(questions: Sequence[str]) -> list[str]:
    """Questions fit to search with: masked placeholders and very short texts left out."""
    return [q for q in dict.fromkeys(q.strip() for q in questions) if len(q) >= 8 and "[" not in q]


def _open_ids(session: Session, ids: Sequence[int]) -> list[int]:
    from backend.unanswered.grouping import row_ids_open

    found = row_ids_open(session, ids)
    if not found:
        raise NothingOpen()
    return found


def _save_with(
    session: Session, *, procedure_id: str, data: dict[str, Any], revision: int, actor: str, submit: bool
) -> content.ProcedureContent:
    saved = content.save_draft(session, procedure_id=procedure_id, data=data, base_revision=revision, actor=actor)
    if submit:
        saved = content.submit_for_review(
            session,
            procedure_id=procedure_id,
            base_revision=saved.revision,
            actor=actor,
            comment="Desde la bandeja de preguntas sin respuesta.",
        )
    return saved


def add_paraphrases(
    session: Session, *, ids: Sequence[int], procedure_id: str, faq_number: int, actor: str, submit: bool = False
) -> content.ProcedureContent:
    """The group's questions become paraphrases of FAQ ``faq_number`` (1-based) in a draft."""
    open_ids = _open_ids(session, ids)
    working = content.get_content(session, procedure_id=procedure_id, which="working")
    data = dict(working.data)
    faqs = [dict(f) for f in data.get("faqs", [])]
    if not 1 <= faq_number <= len(faqs):
        raise content.ValidationFailed([("faq", "Elija una de las preguntas frecuentes del trámite.")])
    faq = faqs[faq_number - 1]
    existing = [str(p) for p in faq.get("paraphrases", [])]
    known = {p.casefold() for p in [*existing, str(faq["question"])]}
    new = [q for q in usable_paraphrases(store.questions_of(session, open_ids)) if q.casefold() not in known]
    if not new:
        raise content.ValidationFailed(
            [("faq", "Ninguna pregunta del grupo sirve como paráfrasis (todas tenían datos ocultados o ya estaban).")]
        )
    faq["paraphrases"] = (existing + new)[:MAX_PARAPHRASES]
    faqs[faq_number - 1] = faq
    data["faqs"] = faqs
    _handle(session, open_ids, Status.PARAPHRASED, actor, f"{procedure_id}#faq-{faq_number}", added=len(new))
    return _save_with(
        session, procedure_id=procedure_id, data=data, revision=working.revision, actor=actor, submit=submit
    )


def new_faq_draft(
    session: Session,
    *,
    ids: Sequence[int],
    procedure_id: str,
    question: str,
    answer: str,
    actor: str,
    submit: bool = False,
) -> content.ProcedureContent:
    """A new FAQ (the editor's question and answer, the group's questions as paraphrases) in a draft."""
    open_ids = _open_ids(session, ids)
    working = content.get_content(session, procedure_id=procedure_id, which="working")
    data = dict(working.data)
    faq: dict[str, Any] = {"question": question.strip(), "answer": answer.strip()}
    paraphrases = [
        q for q in usable_paraphrases(store.questions_of(session, open_ids)) if q.casefold() != question.casefold()
    ]
    if paraphrases:
        faq["paraphrases"] = paraphrases[:MAX_PARAPHRASES]
    data["faqs"] = [*data.get("faqs", []), faq]
    number = len(data["faqs"])
    _handle(session, open_ids, Status.FAQ_DRAFT, actor, f"{procedure_id}#faq-{number}", paraphrases=len(paraphrases))
    return _save_with(
        session, procedure_id=procedure_id, data=data, revision=working.revision, actor=actor, submit=submit
    )


def mark_out_of_scope(session: Session, *, ids: Sequence[int], topic: str, out_of_scope_file: Path, actor: str) -> int:
    """Adds the topic (with the group's questions as keywords) to ``out_of_scope.yml``; marks the rows.

    The search uses the file from the next index build (the next publication). The file
    is replaced atomically and re-read; a topic the file refuses changes nothing.
    """
    open_ids = _open_ids(session, ids)
    try:
        entry = OutOfScopeTopic(topic=topic, keywords=usable_paraphrases(store.questions_of(session, open_ids))[:8])
    except ValueError:
        raise content.ValidationFailed([("topic", "Describa el tema en al menos 10 caracteres.")]) from None
    topics, problems = load_topics(out_of_scope_file)
    if problems:
        raise content.ValidationFailed(
            [("topic", "El archivo de temas fuera de alcance tiene errores: corríjalo antes.")]
        )
    if any(t.topic.casefold() == entry.topic.casefold() for t in topics):
        raise content.ValidationFailed([("topic", "Ese tema ya está en la lista de temas fuera de alcance.")])
    raw = [t.model_dump(exclude_defaults=True) for t in topics] + [entry.model_dump(exclude_defaults=True)]
    count = _handle(session, open_ids, Status.OUT_OF_SCOPE, actor, entry.topic[:200])
    _write_atomically(out_of_scope_file, yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=1_000_000))
    session.commit()
    return count


def dismiss(session: Session, *, ids: Sequence[int], actor: str) -> int:
    open_ids = _open_ids(session, ids)
    count = _handle(session, open_ids, Status.DISMISSED, actor, "")
    session.commit()
    return count


def _handle(session: Session, ids: Sequence[int], status: str, actor: str, target: str, **details: Any) -> int:
    count = store.mark_handled(session, ids=ids, status=status, actor=actor, target=target)
    audit.record(session, actor=actor, action=f"unanswered.{status}", questions=count, target=target, **details)
    return count


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
