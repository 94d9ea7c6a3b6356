"""The content service: everything the staff console does with procedures, in one API.

Conventions (the console codes against these):

* Every function takes keyword-only arguments; ``session`` is a SQLAlchemy ``Session``
  of the case database. Functions that change something commit the session on
  success (the change and its audit row in one transaction) and roll it back before
  raising a domain error, so a refused action leaves nothing half written.
* ``actor`` is the staff username. Roles are checked by the caller (the console); the
  service enforces what must hold everywhere: the workflow's transitions, optimistic
  locking, and that nobody approves their own change.
* ``base_revision`` is the procedure's lock counter the page was rendered with
  (``ProcedureContent.revision`` / ``ProcedureSummary.revision``). If someone acted in
  between, the call raises ``ConflictError`` carrying the current content and the
  refused one, so nothing the editor typed is lost.
* Errors (``backend.content.errors``): ``NotFound``, ``InvalidTransition``,
  ``SelfApprovalError``, ``ConflictError``, ``ValidationFailed`` (``problems``: list of
  ``(field path, Spanish message)``, the rules of ``kb validate``). ``str(error)`` is a
  Spanish sentence fit to show.
* Publishing and previews need the search index and the embedder: pass a ``Publisher``
  (``get_publisher()`` gives the process-wide one; the embedder loads on first use).

Workflow: draft -> in_review -> published; in_review -> draft (returned, with a comment).
A procedure has at most one open change (its working copy); published versions are
immutable and form its history. A restore opens a new draft from an old version.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from backend.content import diffing, filesync, queries, sheets, workflow
from backend.content.errors import (
    ConflictError,
    ContentError,
    InvalidTransition,
    NotFound,
    SelfApprovalError,
    ValidationFailed,
)
from backend.content.publishing import Publisher, get_publisher
from backend.content.types import (
    Comment,
    DiffRow,
    ImportPlan,
    Preview,
    ProcedureContent,
    ProcedureSummary,
    PublishResult,
    SyncReport,
    VersionInfo,
)

__all__ = [
    "Comment",
    "ConflictError",
    "ContentError",
    "DiffRow",
    "ImportPlan",
    "InvalidTransition",
    "NotFound",
    "Preview",
    "ProcedureContent",
    "ProcedureSummary",
    "PublishResult",
    "Publisher",
    "SelfApprovalError",
    "SyncReport",
    "ValidationFailed",
    "VersionInfo",
    "add_comment",
    "apply_import",
    "diff_versions",
    "discard_draft",
    "export_published",
    "export_to_files",
    "get_content",
    "get_publisher",
    "get_version",
    "history",
    "list_comments",
    "list_offices",
    "list_procedures",
    "plan_import",
    "preview",
    "publish",
    "restore",
    "return_to_draft",
    "rollback_index",
    "save_draft",
    "seed_if_empty",
    "submit_for_review",
    "sync_from_files",
]


# --- reading -------------------------------------------------------------------------------


def list_procedures(
    session: Session,
    *,
    text: str = "",
    status: Literal["", "draft", "in_review", "published", "unpublished"] = "",
    office: str = "",
    stale: bool | None = None,
    reviewed_before: date | None = None,
    today: date | None = None,
) -> list[ProcedureSummary]:
    """Procedures for the list page, title order, filtered.

    ``text`` matches id, title, keywords and FAQ questions (case and accent
    insensitive; matching questions come back in ``matching_faqs``). ``status``:
    ``draft``/``in_review`` = has an open change in that status; ``published`` = has
    a published version and no open change; ``unpublished`` = never published.
    ``stale``: True = last review older than the stale limit (``kb validate``'s 365 days).
    """
    return queries.list_procedures(
        session, text=text, status=status, office=office, stale=stale, reviewed_before=reviewed_before, today=today
    )


def list_offices(session: Session) -> list[str]:
    """The distinct ``owner_office`` values, for the office filter."""
    return queries.list_offices(session)


def get_content(
    session: Session, *, procedure_id: str, which: Literal["working", "published"] = "working"
) -> ProcedureContent:
    """A procedure's content as the schema's dict.

    ``working``: the open draft/in-review version if any, else the published one
    (what the edit page shows). ``published``: what citizens get now. Raises NotFound.
    """
    return queries.get_content(session, procedure_id=procedure_id, which=which)


def get_version(session: Session, *, procedure_id: str, number: int) -> ProcedureContent:
    """Any version of a procedure by its number (history links). Raises NotFound."""
    return queries.get_version(session, procedure_id=procedure_id, number=number)


def history(session: Session, *, procedure_id: str) -> list[VersionInfo]:
    """Every version of the procedure, newest first. Raises NotFound."""
    return queries.history(session, procedure_id=procedure_id)


def list_comments(session: Session, *, procedure_id: str) -> list[Comment]:
    """Comments and workflow events of a procedure, oldest first."""
    return queries.list_comments(session, procedure_id=procedure_id)


def diff_versions(session: Session, *, procedure_id: str, left: int, right: int) -> list[DiffRow]:
    """Side-by-side diff of two versions (by number) over a stable field-by-field YAML rendering."""
    return diffing.diff_versions(session, procedure_id=procedure_id, left=left, right=right)


# --- editing and the workflow ----------------------------------------------------------------


def save_draft(
    session: Session, *, procedure_id: str, data: dict[str, Any], base_revision: int | None, actor: str
) -> ProcedureContent:
    """Saves the working copy (creating the draft, or the procedure, if needed).

    ``base_revision`` None creates a new procedure (ConflictError if the id exists).
    Validation is ``kb validate``'s (schema, https link, review date, repeated FAQs,
    related procedures that exist, a link no other procedure uses); ``data["id"]`` must
    equal ``procedure_id``. Raises ValidationFailed, ConflictError, InvalidTransition
    (the change is in review: return it to draft first).
    """
    return workflow.save_draft(session, procedure_id=procedure_id, data=data, base_revision=base_revision, actor=actor)


def submit_for_review(
    session: Session, *, procedure_id: str, base_revision: int, actor: str, comment: str = ""
) -> ProcedureContent:
    """draft -> in_review. Raises InvalidTransition, ConflictError, ValidationFailed."""
    return workflow.submit(
        session, procedure_id=procedure_id, base_revision=base_revision, actor=actor, comment=comment
    )


def return_to_draft(
    session: Session, *, procedure_id: str, base_revision: int, actor: str, comment: str
) -> ProcedureContent:
    """in_review -> draft, with the reviewer's comment (required, Spanish message if empty)."""
    return workflow.return_to_draft(
        session, procedure_id=procedure_id, base_revision=base_revision, actor=actor, comment=comment
    )


def publish(
    session: Session, *, procedure_id: str, base_revision: int, actor: str, publisher: Publisher, comment: str = ""
) -> PublishResult:
    """in_review -> published, and the search index is updated incrementally.

    Raises SelfApprovalError if ``actor`` wrote this version. The new index version is
    built first (only the changed passages embedded), then the database commits, then
    the index's CURRENT pointer switches: the running action server answers with the
    new content within about a second, without a restart.
    """
    return workflow.publish(
        session,
        procedure_id=procedure_id,
        base_revision=base_revision,
        actor=actor,
        publisher=publisher,
        comment=comment,
    )


def restore(session: Session, *, procedure_id: str, number: int, base_revision: int, actor: str) -> ProcedureContent:
    """A new draft with the content of version ``number``; it goes through review like any change.

    Refused (InvalidTransition) while another change is open.
    """
    return workflow.restore(session, procedure_id=procedure_id, number=number, base_revision=base_revision, actor=actor)


def discard_draft(session: Session, *, procedure_id: str, base_revision: int, actor: str) -> None:
    """Drops the open draft (never a published version); a never-published procedure disappears."""
    workflow.discard(session, procedure_id=procedure_id, base_revision=base_revision, actor=actor)


def add_comment(session: Session, *, procedure_id: str, actor: str, body: str) -> Comment:
    """A free comment on the procedure (attached to its open change, if any)."""
    return workflow.add_comment(session, procedure_id=procedure_id, actor=actor, body=body)


# --- preview, index -------------------------------------------------------------------------------


def preview(
    session: Session, *, procedure_id: str, question: str, publisher: Publisher, data: dict[str, Any] | None = None
) -> Preview:
    """What the bot would answer to ``question`` if the working copy (or ``data``) were published.

    Same search, same rewrite rules and same abstention as the bot: the published index
    with this procedure's passages replaced by the draft's. Raises ValidationFailed for
    ``data`` that could not be published.
    """
    from backend.content import preview as preview_module

    return preview_module.preview(session, procedure_id=procedure_id, question=question, publisher=publisher, data=data)


def rollback_index(*, publisher: Publisher) -> str:
    """Serves the previous index version again (emergency undo); returns its name.

    The database is not changed: the next publish rebuilds the index from it.
    """
    return publisher.rollback()


# --- bulk -------------------------------------------------------------------------------------------


def plan_import(session: Session, *, file_name: str, payload: bytes) -> ImportPlan:
    """Reads a CSV/XLSX FAQ sheet in ``kb import``'s format and says what it would change.

    Rows must name a procedure (``procedure_id``/``tramite``); the sheet's rows of a
    procedure become its FAQ list (rows ``<procedure>.faq-<n>`` are the existing FAQs,
    as ``export_published`` writes them; other ids are new FAQs; FAQs missing from the
    sheet are removed). Every row's problems are listed. Nothing is written.
    """
    return sheets.plan_import(session, file_name=file_name, payload=payload)


def apply_import(session: Session, *, file_name: str, payload: bytes, token: str, actor: str) -> ImportPlan:
    """Applies a plan in one transaction: a draft per changed procedure (they go through review).

    Re-plans from ``payload`` and refuses (ConflictError) if it no longer matches
    ``token`` or if a procedure has a change in review; ValidationFailed if any row is bad.
    Nothing is applied unless everything is.
    """
    return sheets.apply_import(session, file_name=file_name, payload=payload, token=token, actor=actor)


def export_published(session: Session, *, fmt: Literal["csv", "xlsx"]) -> bytes:
    """The published procedures' FAQs as a ``kb import`` sheet (importing it back changes nothing)."""
    return sheets.export_published(session, fmt=fmt)


# --- files <-> database ----------------------------------------------------------------------------


def sync_from_files(session: Session, *, content_dir: Path | None = None, actor: str = "archivos") -> SyncReport:
    """Takes the YAML files into the database (a fresh database: every file becomes published v1).

    A file edited since the last sync becomes a new published version only if the
    database did not change meanwhile; otherwise nothing is done for it (``diverged``).
    """
    return filesync.sync_from_files(session, content_dir=content_dir, actor=actor)


def export_to_files(session: Session, *, content_dir: Path | None = None, actor: str = "archivos") -> SyncReport:
    """Writes published content back to the YAML files; refuses files edited by hand since the last sync."""
    return filesync.export_to_files(session, content_dir=content_dir, actor=actor)


def seed_if_empty(session: Session, *, content_dir: Path | None = None) -> bool:
    """On a fresh database, every YAML file becomes published version 1 (call at start-up).

    Returns True if it seeded. Does not build the index: the shipped index already
    holds exactly the files' content.
    """
    return filesync.seed_if_empty(session, content_dir=content_dir)
