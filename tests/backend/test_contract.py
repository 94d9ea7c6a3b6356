"""One contract, two implementations: every CaseRepository behaves the same.

Runs against the SQL repository (SQLite and PostgreSQL) and against
HttpCaseRepository talking to the real backend served by uvicorn. An agency's own
case service can be checked the same way by pointing the ``http`` variant at it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, replace

import httpx
import pytest
from sqlalchemy.orm import Session

from backend import casework
from backend.db import create_schema, make_engine
from backend.http_repository import HttpCaseRepository
from backend.repository import CaseRepository, InvalidCase, NewCase, SqlCaseRepository, VerificationLocked
from backend.scratch_schema import scratch_schema
from tests.backend.conftest import HASH_KEY, OFFICER_TOKEN, SERVICE_TOKEN, LiveBackend, new_case

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


@dataclass
class Subject:
    repo: CaseRepository
    advance: Callable[[str, str], None]  # staff moves a case to a status


@pytest.fixture(params=["sql-sqlite", pytest.param("sql-postgres", marks=pytest.mark.postgres), "http"])
def subject(request: pytest.FixtureRequest, tmp_path) -> Iterator[Subject]:  # type: ignore[no-untyped-def]
    if request.param == "http":
        live: LiveBackend = request.getfixturevalue("live_backend")
        repo = HttpCaseRepository(live.url, token=SERVICE_TOKEN)
        staff = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {OFFICER_TOKEN}"})

        def advance_http(code: str, status: str) -> None:
            staff.post(f"/staff/cases/{code}/status", json={"status": status}).raise_for_status()

        yield Subject(repo, advance_http)
        repo.close()
        staff.close()
        return
    if request.param == "sql-sqlite":
        where: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'cases.db'}")
    else:
        where = scratch_schema(request.getfixturevalue("postgres_url"))
    with where as url:
        engine = make_engine(url)
        create_schema(engine)

        def advance_sql(code: str, status: str) -> None:
            with Session(engine) as session, session.begin():
                casework.change_status(session, code=code, to_status=status, note=None, actor="contract")

        yield Subject(SqlCaseRepository(engine, hash_key=HASH_KEY), advance_sql)
        engine.dispose()


def unique_case(**kwargs: object) -> NewCase:
    """A submission that no other test (sharing the live backend) has used."""
    tag = uuid.uuid4().hex[:10]
    sender = str(kwargs.pop("sender", f"sender-{tag}"))
    return new_case(tag, sender=sender, **kwargs)  # type: ignore[arg-type]


def test_opening_a_case_returns_a_public_code(subject: Subject) -> None:
    code = subject.repo.open_case(unique_case())
    assert re.fullmatch(r"EXP-\d{4}-\d{6}", code)


def test_the_same_submission_is_the_same_case(subject: Subject) -> None:
    submission = unique_case()
    first = subject.repo.open_case(submission)
    assert subject.repo.open_case(submission) == first
    assert subject.repo.open_case(replace(submission, idempotency_key=uuid.uuid4().hex)) != first


def test_a_verified_citizen_sees_status_explanation_and_expected_date(subject: Subject) -> None:
    code = subject.repo.open_case(unique_case(document="30123456"))
    view = subject.repo.status_for_citizen(code, "3456")
    assert view is not None
    assert (view.code, view.procedure_id, view.status, view.label) == (
        code,
        "certificado-residencia",
        "recibido",
        "recibido",
    )
    assert "Recibimos su solicitud" in view.explanation
    assert view.expected_days == 2 and view.expected_date is not None and view.created_at is not None


def test_wrong_verification_and_unknown_code_look_the_same(subject: Subject) -> None:
    code = subject.repo.open_case(unique_case(document="30123456"))
    assert subject.repo.status_for_citizen(code, "9999") is None
    assert subject.repo.status_for_citizen("EXP-1999-999999", "3456") is None
    assert subject.repo.status_for_citizen(code, "") is None


def test_status_follows_what_staff_did(subject: Subject) -> None:
    code = subject.repo.open_case(unique_case(document="X1234567"))
    subject.advance(code, "en_revision")
    subject.advance(code, "requiere_documentacion")
    view = subject.repo.status_for_citizen(code, "4567")
    assert view is not None and view.status == "requiere_documentacion"
    assert view.label == "requiere documentación" and view.expected_date is None


def test_mis_tramites_lists_the_citizens_cases_from_their_channel_only(subject: Subject) -> None:
    me = f"me-{uuid.uuid4().hex[:8]}"
    mine = {subject.repo.open_case(unique_case(sender=me, document="30123456")) for _ in range(2)}
    subject.repo.open_case(unique_case(document="30123456"))  # same document, another channel user
    subject.repo.open_case(unique_case(sender=me, document="27999888"))  # same user, another document
    assert {v.code for v in subject.repo.cases_for_citizen(me, "3456")} == mine
    assert {v.code for v in subject.repo.cases_for_citizen(me, "30123456")} == mine
    assert subject.repo.cases_for_citizen(me, "1111") == []
    assert subject.repo.cases_for_citizen(f"stranger-{uuid.uuid4().hex}", "3456") == []


def test_an_invalid_submission_is_refused(subject: Subject) -> None:
    with pytest.raises(InvalidCase):
        subject.repo.open_case(replace(unique_case(), full_name=""))
    with pytest.raises(InvalidCase):
        subject.repo.open_case(replace(unique_case(), procedure_id="p" * 500))


def test_views_carry_no_hashes_or_channel_ids(subject: Subject) -> None:
    submission = unique_case(document="30123456")
    code = subject.repo.open_case(submission)
    for view in [
        subject.repo.status_for_citizen(code, "3456"),
        *subject.repo.cases_for_citizen(submission.sender_id, "3456"),
    ]:
        assert view is not None
        flat = " ".join(str(v) for v in asdict(view).values())
        assert not HEX64.search(flat) and submission.sender_id not in flat and "30123456" not in flat


# --- lockout (backend/lockout.py): counted in the store, not in the conversation ---------------
def _someone() -> str:
    return f"who-{uuid.uuid4().hex[:10]}"


def test_failed_verifications_lock_a_code_for_every_sender(subject: Subject) -> None:
    code = subject.repo.open_case(unique_case(document="30123456"))
    for _ in range(5):  # five different chats: a new sender id gets no new guesses
        assert subject.repo.status_for_citizen(code, "9999", sender_id=_someone()) is None
    with pytest.raises(VerificationLocked) as locked:
        subject.repo.status_for_citizen(code, "3456", sender_id=_someone())  # even the right answer
    assert 0 < locked.value.retry_after <= 15 * 60
    unknown = f"EXP-1998-{uuid.uuid4().int % 10**6:06d}"  # unknown codes lock the same way
    for _ in range(5):
        assert subject.repo.status_for_citizen(unknown, "9999", sender_id=_someone()) is None
    with pytest.raises(VerificationLocked):
        subject.repo.status_for_citizen(unknown, "3456", sender_id=_someone())


def test_failed_verifications_lock_a_sender_across_codes_and_lists(subject: Subject) -> None:
    code = subject.repo.open_case(unique_case(document="30123456"))
    attacker = _someone()
    for _ in range(3):
        unknown = f"EXP-1997-{uuid.uuid4().int % 10**6:06d}"
        assert subject.repo.status_for_citizen(unknown, "9999", sender_id=attacker) is None
    with pytest.raises(VerificationLocked):
        subject.repo.status_for_citizen(code, "3456", sender_id=attacker)
    with pytest.raises(VerificationLocked):
        subject.repo.cases_for_citizen(attacker, "3456")
    view = subject.repo.status_for_citizen(code, "3456", sender_id=_someone())  # others are not locked
    assert view is not None and view.code == code
