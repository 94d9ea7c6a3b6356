"""Read-only views of the content store for the console's lists and pages."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.content import store
from backend.content.errors import NotFound
from backend.content.models import ContentComment, ContentProcedure, ContentVersion
from backend.content.types import Comment, ProcedureContent, ProcedureSummary, VersionInfo
from knowledge_base.settings import SearchSettings


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _summary(
    procedure: ContentProcedure, versions: dict[int, ContentVersion], needle: str, limit: date
) -> ProcedureSummary | None:
    published = versions.get(procedure.published_version_id or -1)
    working = versions.get(procedure.working_version_id or -1)
    current = published or working
    shown: dict[str, Any] = dict(current.data) if current else {}
    faqs = [str(f.get("question", "")) for f in shown.get("faqs", [])]
    matching: list[str] = []
    if needle:
        head = _fold(" ".join([procedure.id, str(shown.get("title", "")), *map(str, shown.get("keywords", []))]))
        matching = [q for q in faqs if needle in _fold(q)]
        if needle not in head and not matching:
            return None
    reviewed = date.fromisoformat(shown["last_reviewed"]) if shown.get("last_reviewed") else None
    return ProcedureSummary(
        procedure_id=procedure.id,
        title=str(shown.get("title", procedure.id)),
        owner_office=str(shown.get("owner_office", "")),
        last_reviewed=reviewed,
        stale=reviewed is not None and reviewed < limit,
        published_version=published.number if published else None,
        working_status=working.status if working else None,
        revision=procedure.revision,
        faq_count=len(faqs),
        matching_faqs=matching,
    )


def list_procedures(
    session: Session,
    *,
    text: str,
    status: str,
    office: str,
    stale: bool | None,
    reviewed_before: date | None,
    today: date | None,
) -> list[ProcedureSummary]:
    today = today or date.today()
    limit = today - timedelta(days=SearchSettings().stale_after_days)
    procedures = list(session.scalars(select(ContentProcedure)))
    ids = [v for p in procedures for v in (p.published_version_id, p.working_version_id) if v is not None]
    versions = (
        {v.id: v for v in session.scalars(select(ContentVersion).where(ContentVersion.id.in_(ids)))} if ids else {}
    )
    needle = _fold(text.strip())
    result = []
    for procedure in procedures:
        summary = _summary(procedure, versions, needle, limit)
        if summary is None:
            continue
        if status in ("draft", "in_review") and summary.working_status != status:
            continue
        if status == "published" and (summary.published_version is None or summary.working_status):
            continue
        if status == "unpublished" and summary.published_version is not None:
            continue
        if office and summary.owner_office != office:
            continue
        if stale is not None and summary.stale != stale:
            continue
        if reviewed_before and (summary.last_reviewed is None or summary.last_reviewed >= reviewed_before):
            continue
        result.append(summary)
    return sorted(result, key=lambda s: _fold(s.title))


def list_offices(session: Session) -> list[str]:
    return sorted(
        {
            s.owner_office
            for s in list_procedures(
                session, text="", status="", office="", stale=None, reviewed_before=None, today=None
            )
            if s.owner_office
        }
    )


def get_content(session: Session, *, procedure_id: str, which: str) -> ProcedureContent:
    procedure = store.get_procedure(session, procedure_id)
    wanted = (
        procedure.published_version_id
        if which == "published"
        else (procedure.working_version_id or procedure.published_version_id)
    )
    shown = store.version(session, wanted)
    if shown is None:
        raise NotFound(f"El trámite '{procedure_id}' no tiene una versión publicada.")
    return store.content(procedure, shown)


def get_version(session: Session, *, procedure_id: str, number: int) -> ProcedureContent:
    procedure = store.get_procedure(session, procedure_id)
    return store.content(procedure, store.version_by_number(session, procedure_id, number))


def history(session: Session, *, procedure_id: str) -> list[VersionInfo]:
    store.get_procedure(session, procedure_id)
    rows = session.scalars(
        select(ContentVersion).where(ContentVersion.procedure_id == procedure_id).order_by(ContentVersion.number.desc())
    )
    return [store.info(v) for v in rows]


def list_comments(session: Session, *, procedure_id: str) -> list[Comment]:
    rows = session.scalars(
        select(ContentComment).where(ContentComment.procedure_id == procedure_id).order_by(ContentComment.id)
    )
    return [Comment(c.id, c.procedure_id, c.version_number, c.author, c.at, c.body, c.kind) for c in rows]
