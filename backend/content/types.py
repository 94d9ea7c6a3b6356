"""Typed results of the content service (plain dataclasses, safe to hand to templates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

Status = Literal["draft", "in_review", "published", "superseded"]
# Statuses of the one open change a procedure may have (its "working copy").
OPEN_STATUSES = ("draft", "in_review")


@dataclass(frozen=True)
class ProcedureSummary:
    """One line of the procedure list."""

    procedure_id: str
    title: str
    owner_office: str
    last_reviewed: date | None
    stale: bool  # last_reviewed older than VENTANILLA_KB_STALE_AFTER_DAYS
    published_version: int | None  # version number, None if never published
    working_status: str | None  # "draft" / "in_review" when a change is open, else None
    revision: int  # pass back as base_revision when acting on the working copy
    faq_count: int
    matching_faqs: list[str] = field(default_factory=list)  # FAQ questions matching the search text


@dataclass(frozen=True)
class VersionInfo:
    """One version of a procedure (history row)."""

    version_id: int
    procedure_id: str
    number: int  # 1, 2, 3... per procedure
    status: str
    authors: list[str]  # everyone who wrote this version (they cannot approve it)
    created_at: datetime
    updated_at: datetime
    submitted_by: str | None
    reviewed_by: str | None  # who published it or sent it back
    published_at: datetime | None
    restored_from: int | None  # version number this one was restored from
    content_hash: str


@dataclass(frozen=True)
class ProcedureContent:
    """A version's content as the schema's dict (the same fields as the YAML file)."""

    procedure_id: str
    data: dict[str, Any]
    version: VersionInfo
    revision: int  # the procedure's lock counter: pass as base_revision on the next save/transition


@dataclass(frozen=True)
class Comment:
    comment_id: int
    procedure_id: str
    version_number: int | None
    author: str
    at: datetime
    body: str
    kind: str  # "comment", "submitted", "returned", "published", "restored"


@dataclass(frozen=True)
class DiffRow:
    """One side-by-side row: ``kind`` is equal / changed / added / removed."""

    kind: Literal["equal", "changed", "added", "removed"]
    left_number: int | None
    left: str
    right_number: int | None
    right: str


@dataclass(frozen=True)
class PreviewHit:
    procedure_id: str
    title: str
    label: str
    answer: str  # exactly the text the bot would send
    score: float
    source_url: str


@dataclass(frozen=True)
class Preview:
    question: str
    abstained: bool  # True: the bot would say it is not sure (and offer ``closest`` as buttons)
    confidence: float
    threshold: float
    hits: list[PreviewHit]  # what the bot answers with (first one), empty when abstaining
    closest: list[PreviewHit]


@dataclass(frozen=True)
class RowProblem:
    line: int  # 0: the whole file
    field: str
    message: str


@dataclass(frozen=True)
class FaqChange:
    procedure_id: str
    row_id: str  # "<procedure>.faq-<n>" for existing FAQs
    question: str
    before: dict[str, str] | None
    after: dict[str, str] | None


@dataclass(frozen=True)
class ImportPlan:
    """What an import would do; nothing is written until ``apply_import`` with this plan's token."""

    file_name: str
    added: list[FaqChange]
    changed: list[FaqChange]
    removed: list[FaqChange]
    unchanged: int
    problems: list[RowProblem]  # every row's errors; a plan with problems cannot be applied
    procedures: list[str]  # procedures that get a new draft
    token: str  # content hash of the sheet: apply refuses if the plan was made from another file

    @property
    def can_apply(self) -> bool:
        return not self.problems and bool(self.added or self.changed or self.removed)


@dataclass(frozen=True)
class PublishResult:
    procedure_id: str
    version_number: int
    index_version: str
    embedded_passages: int  # passages embedded again (the rest reused their stored vectors)
    reused_passages: int
    seconds: float


@dataclass(frozen=True)
class SyncReport:
    """Files <-> database consistency (see knowledge_base/README.md, "Console and files")."""

    imported: list[str]  # procedures whose file was taken into the database
    exported: list[str]  # procedures whose file was written from the database
    in_sync: list[str]
    diverged: list[str]  # changed on both sides since the last sync: nothing done
    refused: list[str]  # would overwrite the other side: nothing done (message names them)
