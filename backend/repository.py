"""The ``CaseRepository`` interface the actions use, and its direct-SQL implementation.

An agency can put its own workflow system behind the same interface: the HTTP
implementation (``backend.http_repository``) speaks the REST contract that the
backend's internal case API (``backend.api_internal``) serves. The actions never
import SQLAlchemy themselves, and one contract test suite runs against both.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import hashing, lockout
from backend.codes import next_code
from backend.lockout import VerificationLocked as VerificationLocked  # part of the interface (raised by both)
from backend.models import Case, CaseStatusChange, ConsentRecord
from backend.workflow import CITIZEN_EXPLANATION, CITIZEN_LABEL, EXPECTED_DAYS, Status, expected_date

PRIVACY_NOTICE_VERSION = "2026-11"
# A verification hash no case can have: unknown codes are compared against it, so a
# wrong verification and an unknown code do the same work.
_NO_CASE_HASH = "0" * 64

# Column limits, checked before anything is written (PostgreSQL would refuse longer
# values half-way; SQLite would silently keep them).
LIMITS = {
    "procedure_id": 80,
    "full_name": 200,
    "contact": 200,
    "document_number": 40,
    "channel": 40,
    "sender_id": 255,
    "idempotency_key": 80,
}


class InvalidCase(ValueError):
    """The submission cannot become a case (a field is empty or too long)."""


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

    def validate(self) -> None:
        """Raises InvalidCase naming the first bad field."""
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidCase(f"{name} is required")
            if len(value) > limit:
                raise InvalidCase(f"{name} is longer than {limit} characters")
        if len(hashing.normalize_document(self.document_number)) < 4:
            raise InvalidCase("document_number needs at least 4 letters or digits")


@dataclass(frozen=True)
class CaseStatusView:
    """What a verified citizen may learn about their case (never who else asked, never hashes)."""

    code: str
    procedure_id: str
    status: str
    explanation: str
    updated_at: datetime
    expected_days: int | None
    label: str = ""
    expected_date: date | None = None
    created_at: datetime | None = None


class CaseRepository(Protocol):
    """How the actions open cases and tell citizens about them."""

    def open_case(self, new_case: NewCase) -> str:
        """Creates the case (or finds the one with the same idempotency key); returns its code.

        Raises InvalidCase for a submission that cannot be stored.
        """
        ...

    def status_for_citizen(self, code: str, verification: str, *, sender_id: str = "") -> CaseStatusView | None:
        """The case's status if ``verification`` (last 4 characters of the document) matches.

        None otherwise, never saying why: an unknown code and a wrong verification
        look the same. Each failure counts against the code and against ``sender_id``
        (the channel user asking); raises VerificationLocked once either has too many
        recent failures (``backend.lockout``), even for the right verification.
        """
        ...

    def cases_for_citizen(self, sender_id: str, verification: str) -> list[CaseStatusView]:
        """The citizen's own list ("mis trámites"): cases opened from this channel user whose document matches.

        ``verification`` is the full document number or its last 4 characters. An
        empty list both when there are no cases and when nothing matches; an empty
        list counts as a failed verification of ``sender_id`` (VerificationLocked as above).
        """
        ...


def submission_key(*parts: str) -> str:
    """A stable idempotency key for one form submission."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def status_view(case: Case) -> CaseStatusView:
    """The citizen's view of a case row (shared by the SQL repository and the API)."""
    status = Status(case.status)
    return CaseStatusView(
        code=case.code,
        procedure_id=case.procedure_id,
        status=status.value,
        explanation=CITIZEN_EXPLANATION[status],
        updated_at=case.updated_at,
        expected_days=EXPECTED_DAYS[status],
        label=CITIZEN_LABEL[status],
        expected_date=expected_date(status, case.status_since),
        created_at=case.created_at,
    )


class SqlCaseRepository:
    """Direct SQL access through SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, *, hash_key: str, code_prefix: str = "EXP") -> None:
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._key = hash_key
        self._prefix = code_prefix

    def open_case(self, new_case: NewCase) -> str:
        new_case.validate()
        existing = self._code_for_key(new_case.idempotency_key)
        if existing:
            return existing
        try:
            return self._insert(new_case)
        except IntegrityError:
            # A concurrent duplicate submission won the race (the counter increment
            # was rolled back with our insert): return its case.
            existing = self._code_for_key(new_case.idempotency_key)
            if existing is None:
                raise
            return existing

    def _code_for_key(self, key: str) -> str | None:
        with self._sessions() as session:
            return session.scalar(select(Case.code).where(Case.idempotency_key == key))

    def _insert(self, new_case: NewCase) -> str:
        with self._sessions.begin() as session:
            now = datetime.now(timezone.utc)
            code = next_code(session, prefix=self._prefix, year=now.year)
            doc = new_case.document_number
            case = Case(
                code=code,
                procedure_id=new_case.procedure_id,
                status=Status.RECIBIDO.value,
                channel=new_case.channel,
                idempotency_key=new_case.idempotency_key,
                notify_opt_in=new_case.notify_opt_in,
                created_at=now,
                updated_at=now,
                status_since=now,
                full_name=new_case.full_name.strip(),
                contact=new_case.contact.strip(),
                document_hash=hashing.document_hash(self._key, doc),
                verification_hash=hashing.verification_hash(self._key, code, doc),
                sender_hash=hashing.sender_hash(self._key, new_case.sender_id),
                # Kept in clear only for delivering notifications the citizen asked for.
                sender_id=new_case.sender_id if new_case.notify_opt_in else None,
            )
            session.add(case)
            session.flush()
            session.add(
                CaseStatusChange(
                    case_id=case.id, changed_by="ciudadano", changed_at=now, to_status=Status.RECIBIDO.value
                )
            )
            purposes = ["tramite", "notificaciones"] if new_case.notify_opt_in else ["tramite"]
            for purpose in purposes:
                session.add(
                    ConsentRecord(
                        case_id=case.id,
                        purpose=purpose,
                        notice_version=PRIVACY_NOTICE_VERSION,
                        granted=True,
                        given_at=now,
                        channel=new_case.channel,
                    )
                )
            return code

    def status_for_citizen(self, code: str, verification: str, *, sender_id: str = "") -> CaseStatusView | None:
        # Both paths (unknown code, wrong verification) run one indexed query for one
        # column and one constant-time comparison; only a match loads the case.
        expected = hashing.verification_hash(self._key, code, verification)
        with self._sessions.begin() as session:
            lockout.check(session, self._key, code=code, sender_id=sender_id)
            row = session.execute(select(Case.id, Case.verification_hash).where(Case.code == code)).first()
            stored = (row.verification_hash or _NO_CASE_HASH) if row is not None else _NO_CASE_HASH
            if not hmac.compare_digest(stored, expected) or row is None:
                lockout.record_failure(session, self._key, code=code, sender_id=sender_id)
                return None
            case = session.get(Case, row.id)
            return status_view(case) if case is not None else None

    def cases_for_citizen(self, sender_id: str, verification: str) -> list[CaseStatusView]:
        with self._sessions.begin() as session:
            lockout.check(session, self._key, sender_id=sender_id)
            matching = self._matching_cases(session, sender_id, verification)
            if not matching:
                lockout.record_failure(session, self._key, sender_id=sender_id)
            return matching

    def _matching_cases(self, session: Session, sender_id: str, verification: str) -> list[CaseStatusView]:
        normalized = hashing.normalize_document(verification)
        if len(normalized) < 4:
            return []
        full_document = len(normalized) > 4
        doc_hash = hashing.document_hash(self._key, normalized) if full_document else ""
        cases = session.scalars(
            select(Case)
            .where(Case.sender_hash == hashing.sender_hash(self._key, sender_id))
            .order_by(Case.created_at.desc(), Case.id.desc())
        ).all()
        matching = []
        for case in cases:
            if full_document:
                ok = hmac.compare_digest(case.document_hash or _NO_CASE_HASH, doc_hash)
            else:
                expected = hashing.verification_hash(self._key, case.code, normalized)
                ok = hmac.compare_digest(case.verification_hash or _NO_CASE_HASH, expected)
            if ok:
                matching.append(status_view(case))
        return matching
