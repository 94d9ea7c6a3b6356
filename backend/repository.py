"""The ``CaseRepository`` interface the actions use, and its direct-SQL implementation.

An agency can put its own workflow system behind the same interface (see the HTTP
implementation); the actions never import SQLAlchemy themselves.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import hashing
from backend.codes import next_code
from backend.models import Case, CaseStatusChange, ConsentRecord
from backend.workflow import CITIZEN_EXPLANATION, EXPECTED_DAYS, Status

PRIVACY_NOTICE_VERSION = "2026-11"


@dataclass(frozen=True)
class NewCase:
    """What the open-case form collected. ``idempotency_key`` identifies the submission."""

    procedure_id: str
    full_name: str
    document_number: str
    contact: str
    channel: str
    sender_id: str
    idempotency_key: str
    notify_opt_in: bool = True


@dataclass(frozen=True)
class CaseStatusView:
    """What a verified citizen may learn about their case."""

    code: str
    procedure_id: str
    status: str
    explanation: str
    updated_at: datetime
    expected_days: int | None


class CaseRepository(Protocol):
    def open_case(self, new_case: NewCase) -> str:
        """Creates the case (or finds the one with the same idempotency key); returns its code."""
        ...

    def status_for_citizen(self, code: str, verification: str) -> CaseStatusView | None:
        """The case's status if ``verification`` matches; None otherwise, never saying why."""
        ...


def submission_key(*parts: str) -> str:
    """A stable idempotency key for one form submission."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


class SqlCaseRepository:
    """Direct SQL access through SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, *, hash_key: str, code_prefix: str = "EXP") -> None:
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._key = hash_key
        self._prefix = code_prefix

    def open_case(self, new_case: NewCase) -> str:
        existing = self._code_for_key(new_case.idempotency_key)
        if existing:
            return existing
        try:
            return self._insert(new_case)
        except IntegrityError:
            # A concurrent duplicate submission won the race: return its case.
            existing = self._code_for_key(new_case.idempotency_key)
            if existing is None:
                raise
            return existing

    def _code_for_key(self, key: str) -> str | None:
        with self._sessions() as session:
            return session.scalar(select(Case.code).where(Case.idempotency_key == key))

    def _insert(self, new_case: NewCase) -> str:
        with self._sessions.begin() as session:
            year = datetime.now(timezone.utc).year
            code = next_code(session, prefix=self._prefix, year=year)
            doc = new_case.document_number
            case = Case(
                code=code,
                procedure_id=new_case.procedure_id,
                status=Status.RECIBIDO.value,
                channel=new_case.channel,
                sender_hash=hashing.sender_hash(self._key, new_case.sender_id),
                idempotency_key=new_case.idempotency_key,
                full_name=new_case.full_name,
                contact=new_case.contact,
                document_hash=hashing.document_hash(self._key, doc),
                verification_hash=hashing.verification_hash(self._key, code, doc),
                notify_opt_in=new_case.notify_opt_in,
            )
            session.add(case)
            session.flush()
            session.add(
                CaseStatusChange(
                    case_id=case.id, changed_by="ciudadano", to_status=Status.RECIBIDO.value
                )
            )
            session.add(ConsentRecord(case_id=case.id, notice_version=PRIVACY_NOTICE_VERSION))
            return code

    def status_for_citizen(self, code: str, verification: str) -> CaseStatusView | None:
        # The hash is computed before the lookup so that an unknown code and a wrong
        # verification cost the same work.
        expected = hashing.verification_hash(self._key, code, verification)
        with self._sessions() as session:
            case = session.scalar(select(Case).where(Case.code == code))
        stored = case.verification_hash if case is not None else "0" * 64
        if case is None or not hmac.compare_digest(stored or "", expected):
            return None
        status = Status(case.status)
        return CaseStatusView(
            code=case.code,
            procedure_id=case.procedure_id,
            status=status.value,
            explanation=CITIZEN_EXPLANATION[status],
            updated_at=case.updated_at,
            expected_days=EXPECTED_DAYS[status],
        )
