"""The case store on real SQL (SQLite and PostgreSQL): codes, idempotency, workflow, privacy of storage."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend import casework
from backend.codes import normalize_code
from backend.db import create_schema, make_engine
from backend.models import AuditEvent, Case, CaseStatusChange, ConsentRecord, NotificationOutbox
from backend.repository import InvalidCase, SqlCaseRepository
from backend.workflow import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    Status,
    add_working_days,
    check_transition,
)
from tests.backend.conftest import HASH_KEY, Database, new_case

CODE_RE = re.compile(r"^EXP-\d{4}-\d{6}$")


# --- codes and workflow (pure) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("EXP-2026-000123", "EXP-2026-000123"),
        ("exp-2026-000123", "EXP-2026-000123"),
        ("exp 2026 123", "EXP-2026-000123"),
        ("EXP2026000123", "EXP-2026-000123"),
        ("mi tramite es el exp-2026-45, gracias", "EXP-2026-000045"),
        ("hola", None),
        ("ABC-2026-000123", None),
    ],
)
def test_codes_are_normalized(typed: str, expected: str | None) -> None:
    assert normalize_code(typed) == expected


def test_the_workflow_allows_exactly_the_documented_transitions() -> None:
    allowed = {
        ("recibido", "en_revision"),
        ("en_revision", "requiere_documentacion"),
        ("requiere_documentacion", "en_revision"),
        ("en_revision", "aprobado"),
        ("en_revision", "rechazado"),
        ("aprobado", "cerrado"),
        ("rechazado", "cerrado"),
    }
    for current in Status:
        for new in Status:
            if (current.value, new.value) in allowed:
                check_transition(current, new)
            else:
                with pytest.raises(InvalidTransition):
                    check_transition(current, new)
    assert {(c.value, n.value) for c, ns in ALLOWED_TRANSITIONS.items() for n in ns} == allowed


def test_working_days_skip_weekends() -> None:
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert add_working_days(friday, 5) == date(2026, 11, 27)


# --- creation --------------------------------------------------------------------------------


def test_a_case_is_stored_with_history_consent_and_no_clear_document(repo: SqlCaseRepository, engine: Engine) -> None:
    code = repo.open_case(new_case(document="30.123.456"))
    assert CODE_RE.match(code)
    assert code.startswith(f"EXP-{datetime.now(timezone.utc).year}-")
    with Session(engine) as session:
        case = session.scalars(select(Case).where(Case.code == code)).one()
        assert case.status == "recibido" and case.channel == "callback"
        assert case.document_hash and "30123456" not in case.document_hash and "30.123.456" not in case.document_hash
        assert case.verification_hash and case.verification_hash != case.document_hash
        assert case.sender_id == "sender-1"  # kept for notifications (opted in)
        history = session.scalars(select(CaseStatusChange).where(CaseStatusChange.case_id == case.id)).all()
        assert [(h.from_status, h.to_status, h.changed_by) for h in history] == [(None, "recibido", "ciudadano")]
        consents = session.scalars(select(ConsentRecord).where(ConsentRecord.case_id == case.id)).all()
        assert {c.purpose for c in consents} == {"tramite", "notificaciones"}
        assert all(c.notice_version and c.granted for c in consents)
        # No column anywhere holds the document number in clear.
        row = session.execute(select(Case.__table__).where(Case.code == code)).one()
        assert not any("30123456" in str(value) for value in row)


def test_without_notification_consent_the_channel_id_is_not_kept(repo: SqlCaseRepository, engine: Engine) -> None:
    code = repo.open_case(new_case(notify=False))
    with Session(engine) as session:
        case = session.scalars(select(Case).where(Case.code == code)).one()
        assert case.sender_id is None and case.sender_hash
        assert {c.purpose for c in case.consents} == {"tramite"}


def test_codes_are_sequential_per_year(repo: SqlCaseRepository) -> None:
    codes = [repo.open_case(new_case(i)) for i in range(3)]
    numbers = [int(c.rsplit("-", 1)[1]) for c in codes]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_the_same_submission_twice_is_one_case(repo: SqlCaseRepository, engine: Engine) -> None:
    first = repo.open_case(new_case("double-click"))
    second = repo.open_case(new_case("double-click"))
    assert first == second
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


@pytest.mark.parametrize("field", ["procedure_id", "full_name", "contact", "channel", "sender_id", "idempotency_key"])
def test_empty_or_oversized_fields_are_refused_before_writing(
    repo: SqlCaseRepository, engine: Engine, field: str
) -> None:
    from dataclasses import replace

    for bad in ("", "x" * 300):
        with pytest.raises(InvalidCase):
            repo.open_case(replace(new_case(), **{field: bad}))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_duplicated_submissions_at_the_same_moment_are_one_case(repo: SqlCaseRepository, engine: Engine) -> None:
    barrier = threading.Barrier(12)

    def submit(_: int) -> str:
        barrier.wait()
        return repo.open_case(new_case("same-webhook-delivered-12-times"))

    with ThreadPoolExecutor(12) as pool:
        codes = set(pool.map(submit, range(12)))
    assert len(codes) == 1
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


def _concurrent_creations(database: Database, count: int) -> None:
    """``count`` different submissions at once, each through its own repository and engine pool."""
    engine = make_engine(database.url, pool_size=20, max_overflow=30)
    create_schema(engine)
    repo = SqlCaseRepository(engine, hash_key=HASH_KEY)
    barrier = threading.Barrier(count)

    def submit(i: int) -> str:
        barrier.wait()
        return repo.open_case(new_case(i, sender=f"sender-{i}", document=f"{20000000 + i}"))

    try:
        with ThreadPoolExecutor(count) as pool:
            codes = list(pool.map(submit, range(count)))
        assert len(set(codes)) == count
        assert all(CODE_RE.match(c) for c in codes)
        numbers = sorted(int(c.rsplit("-", 1)[1]) for c in codes)
        assert numbers == list(range(numbers[0], numbers[0] + count))  # no gaps, no repeats
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Case)) == count
            assert session.scalar(select(func.count(func.distinct(Case.code)))) == count
            assert session.scalar(select(func.count()).select_from(CaseStatusChange)) == count
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_200_concurrent_creations_on_postgresql_get_200_distinct_codes(pg_database: Database) -> None:
    _concurrent_creations(pg_database, 200)


def test_concurrent_creations_on_sqlite_get_distinct_codes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _concurrent_creations(Database(f"sqlite:///{tmp_path / 'c.db'}", "sqlite"), 60)


# --- verification -------------------------------------------------------------------------------


def test_status_needs_the_right_verification(repo: SqlCaseRepository) -> None:
    code = repo.open_case(new_case(document="30123456"))
    view = repo.status_for_citizen(code, "3456")
    assert view is not None and view.code == code and view.status == "recibido"
    assert view.label == "recibido" and view.explanation and view.expected_date is not None
    assert repo.status_for_citizen(code, "30123456") is not None  # the whole number works too
    assert repo.status_for_citizen(code, "0000") is None
    assert repo.status_for_citizen("EXP-2026-999999", "3456") is None


def test_cases_for_citizen_lists_only_their_own(repo: SqlCaseRepository) -> None:
    mine = [repo.open_case(new_case(i, document="30123456", sender="me")) for i in range(2)]
    repo.open_case(new_case(9, document="30123456", sender="someone-else"))
    repo.open_case(new_case(8, document="27999888", sender="me"))
    listed = repo.cases_for_citizen("me", "3456")
    assert sorted(v.code for v in listed) == sorted(mine)
    assert sorted(v.code for v in repo.cases_for_citizen("me", "30.123.456")) == sorted(mine)
    assert repo.cases_for_citizen("me", "0000") == []
    assert repo.cases_for_citizen("me", "11111111") == []
    assert repo.cases_for_citizen("nobody", "3456") == []


# --- staff operations on the store ----------------------------------------------------------------


def test_status_changes_follow_the_workflow_and_are_recorded(repo: SqlCaseRepository, engine: Engine) -> None:
    code = repo.open_case(new_case())
    with Session(engine) as session, session.begin(), pytest.raises(InvalidTransition):
        casework.change_status(session, code=code, to_status="aprobado", note=None, actor="Olga")
    path = ["en_revision", "requiere_documentacion", "en_revision", "aprobado", "cerrado"]
    for step in path:
        with Session(engine) as session, session.begin():
            casework.change_status(session, code=code, to_status=step, note=f"paso {step}", actor="Olga")
    with Session(engine) as session:
        case = casework.get_case(session, code=code)
        assert [h.to_status for h in case.history] == ["recibido", *path]
        assert [h.from_status for h in case.history][1:] == ["recibido", *path[:-1]]
        assert all(h.changed_by == "Olga" and h.note == f"paso {h.to_status}" for h in case.history[1:])
        assert case.closed_at is not None
        audited = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
        assert [a.details["to_status"] for a in audited if a.action == "case.status_changed"] == path
        assert session.scalar(select(func.count()).select_from(NotificationOutbox)) == len(path)
    view = repo.status_for_citizen(code, "3456")
    assert view is not None and view.status == "cerrado" and view.expected_date is None


def test_a_refused_change_writes_nothing(repo: SqlCaseRepository, engine: Engine) -> None:
    code = repo.open_case(new_case())
    with Session(engine) as session, session.begin():
        casework.change_status(session, code=code, to_status="en_revision", note=None, actor="Olga")
    with pytest.raises(InvalidTransition), Session(engine) as session, session.begin():
        casework.change_status(session, code=code, to_status="cerrado", note="x", actor="Olga")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(CaseStatusChange)) == 2
        assert session.scalar(select(func.count()).select_from(NotificationOutbox)) == 1
        assert session.scalar(select(Case.status)) == "en_revision"


def test_two_officers_moving_the_same_case_at_once_cannot_both_win(repo: SqlCaseRepository, engine: Engine) -> None:
    code = repo.open_case(new_case())
    with Session(engine) as session, session.begin():
        casework.change_status(session, code=code, to_status="en_revision", note=None, actor="Olga")
    barrier = threading.Barrier(6)
    results: list[str] = []

    def decide(target: str) -> None:
        barrier.wait()
        try:
            with Session(engine) as session, session.begin():
                casework.change_status(session, code=code, to_status=target, note=None, actor=target)
            results.append("ok")
        except (InvalidTransition, casework.ConcurrentChange):
            results.append("refused")

    threads = [threading.Thread(target=decide, args=(t,)) for t in ["aprobado", "rechazado"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results.count("ok") == 1 and results.count("refused") == 5
    with Session(engine) as session:
        case = casework.get_case(session, code=code)
        assert [h.to_status for h in case.history] == ["recibido", "en_revision", case.status]


def test_notifications_are_queued_only_for_channels_that_can_push_and_citizens_who_opted_in(
    repo: SqlCaseRepository, engine: Engine
) -> None:
    pushes = repo.open_case(new_case(1, channel="telegram"))
    rest = repo.open_case(new_case(2, channel="rest"))
    opted_out = repo.open_case(new_case(3, channel="telegram", notify=False))
    for code in (pushes, rest, opted_out):
        with Session(engine) as session, session.begin():
            casework.change_status(
                session, code=code, to_status="en_revision", note=None, actor="Olga", skip_channels={"rest"}
            )
    with Session(engine) as session:
        queued = (
            session.execute(select(Case.code).join(NotificationOutbox, NotificationOutbox.case_id == Case.id))
            .scalars()
            .all()
        )
    assert queued == [pushes]
