"""Export, erasure and retention, through the real console scripts on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from backend import casework
from backend.models import AuditEvent, Case, CaseNote, CaseStatusChange, ConsentRecord, NotificationOutbox
from backend.repository import SqlCaseRepository
from tests.backend.conftest import HASH_KEY, Database, new_case

BIN = Path(sys.executable).parent
# The scripts also clean Rasa's conversation store: a scratch one, never the project's var/.
# Every test writes a conversation with Rasa's own tracker store (a .venv-rasa process).
pytestmark = [pytest.mark.usefixtures("tracker_db"), pytest.mark.slow]


def _run(
    script: str, database: Database, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VENTANILLA_DATABASE_URL": database.url,
        "VENTANILLA_CASE_HASH_KEY": HASH_KEY,
        **(extra_env or {}),
    }
    return subprocess.run([str(BIN / script), *args], input=stdin, env=env, capture_output=True, text=True, timeout=120)


def _advance(engine: Engine, code: str, *steps: str, note: str | None = None) -> None:
    for step in steps:
        with Session(engine) as session, session.begin():
            casework.change_status(session, code=code, to_status=step, note=note, actor="Olga")


def _citizen_with_two_cases(repo: SqlCaseRepository, engine: Engine) -> tuple[list[str], str]:
    mine = [repo.open_case(new_case(i, document="30.123.456", sender="tg-ana", channel="telegram")) for i in range(2)]
    other = repo.open_case(new_case(9, document="27999888", sender="tg-bob", channel="telegram"))
    _advance(engine, mine[0], "en_revision", note="La ciudadana Ana trajo su partida")
    with Session(engine) as session, session.begin():
        casework.add_note(session, code=mine[0], text="Ana llamó por teléfono", actor="Olga")
    return mine, other


def test_export_gives_the_citizen_everything_we_hold(
    repo: SqlCaseRepository, engine: Engine, database: Database
) -> None:
    mine, other = _citizen_with_two_cases(repo, engine)
    result = _run("ventanilla-privacy", database, "export", stdin="30123456\n")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert sorted(c["codigo"] for c in data["tramites"]) == sorted(mine)
    first = next(c for c in data["tramites"] if c["codigo"] == mine[0])
    assert (first["nombre"], first["contacto"], first["identificador_en_el_canal"]) == (
        "Ana María Pérez",
        "ana.perez@correo.com",
        "tg-ana",
    )
    assert [h["a"] for h in first["historial"]] == ["recibido", "en_revision"]
    assert first["notas"][0]["texto"] == "Ana llamó por teléfono"
    assert {c["finalidad"] for c in first["consentimientos"]} == {"tramite", "notificaciones"}
    assert first["notificaciones"][0]["estado_notificado"] == "en_revision"
    assert other not in result.stdout and "tg-bob" not in result.stdout
    with Session(engine) as session:  # the export itself is audited
        assert session.scalar(select(func.count()).where(AuditEvent.action == "citizen.exported")) == 2


def test_export_to_a_file(repo: SqlCaseRepository, engine: Engine, database: Database, tmp_path: Path) -> None:
    _mine, _ = _citizen_with_two_cases(repo, engine)
    out = tmp_path / "export.json"
    result = _run("ventanilla-privacy", database, "export", "--output", str(out), stdin="30123456")
    assert result.returncode == 0 and "Exportados 2 trámites" in result.stderr
    assert len(json.loads(out.read_text())["tramites"]) == 2


def test_erase_removes_personal_data_and_keeps_anonymous_statistics(
    repo: SqlCaseRepository, engine: Engine, database: Database
) -> None:
    mine, other = _citizen_with_two_cases(repo, engine)
    refused = _run("ventanilla-privacy", database, "erase", stdin="30123456")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    result = _run("ventanilla-privacy", database, "erase", "--yes", stdin="30123456\n")
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(result.stdout)["anonimizados"]) == sorted(mine)

    with Session(engine) as session:
        for code in mine:
            case = session.scalars(select(Case).where(Case.code == code)).one()
            personal = (
                case.full_name,
                case.contact,
                case.document_hash,
                case.verification_hash,
                case.sender_hash,
                case.sender_id,
            )
            assert personal == (None,) * 6
            assert case.anonymized_at is not None and case.procedure_id == "certificado-residencia"
            assert session.scalar(select(func.count()).where(CaseNote.case_id == case.id)) == 0
            assert session.scalar(select(func.count()).where(ConsentRecord.case_id == case.id)) == 0
            notes = session.scalars(select(CaseStatusChange.note).where(CaseStatusChange.case_id == case.id)).all()
            assert notes and all(n is None for n in notes)  # the steps stay, their free text goes
        assert {n.state for n in session.scalars(select(NotificationOutbox)).all()} <= {"cancelled"}
        still = session.scalars(select(Case).where(Case.code == other)).one()
        assert still.full_name == "Ana María Pérez" and still.document_hash  # another citizen: untouched
        assert session.scalar(select(func.count()).where(AuditEvent.action == "case.anonymized")) == 2
    # Nothing can be found or verified with the erased data any more.
    assert repo.status_for_citizen(mine[0], "3456") is None
    assert repo.cases_for_citizen("tg-ana", "30123456") == []
    again = _run("ventanilla-privacy", database, "export", stdin="30123456")
    assert json.loads(again.stdout)["tramites"] == []


def test_a_missing_document_number_is_a_clear_error(database: Database, engine: Engine) -> None:
    result = _run("ventanilla-privacy", database, "export", stdin="\n")
    assert result.returncode != 0 and "documento" in result.stderr


def test_retention_anonymizes_only_closed_cases_past_the_deadline(
    repo: SqlCaseRepository, engine: Engine, database: Database
) -> None:
    old_closed, recent_closed, old_open = (repo.open_case(new_case(i)) for i in range(3))
    for code in (old_closed, recent_closed):
        _advance(engine, code, "en_revision", "aprobado", "cerrado")
    _advance(engine, old_open, "en_revision")
    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    with Session(engine) as session, session.begin():
        session.execute(update(Case).where(Case.code == old_closed).values(closed_at=long_ago, created_at=long_ago))
        session.execute(update(Case).where(Case.code == old_open).values(created_at=long_ago))

    dry = _run("ventanilla-retention", database, "--dry-run", extra_env={"VENTANILLA_RETENTION_DAYS": "365"})
    assert dry.returncode == 0 and json.loads(dry.stdout)["tramites"] == [old_closed]
    with Session(engine) as session:
        assert session.scalar(select(Case.full_name).where(Case.code == old_closed)) is not None

    result = _run("ventanilla-retention", database, extra_env={"VENTANILLA_RETENTION_DAYS": "365"})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["dias"], summary["dry_run"], summary["tramites"]) == (365, False, [old_closed])
    with Session(engine) as session:
        rows = {c.code: c for c in session.scalars(select(Case)).all()}
    assert rows[old_closed].full_name is None and rows[old_closed].anonymized_at is not None
    assert rows[old_closed].status == "cerrado" and rows[old_closed].closed_at is not None  # statistics stay
    assert rows[recent_closed].full_name is not None and rows[old_open].full_name is not None
    # Running it again finds nothing new; --days overrides the setting.
    assert json.loads(_run("ventanilla-retention", database).stdout)["tramites"] == []
    assert json.loads(_run("ventanilla-retention", database, "--days", "0").stdout)["tramites"] == [recent_closed]


@pytest.mark.parametrize("days", ["-1"])
def test_negative_retention_is_refused(database: Database, engine: Engine, days: str) -> None:
    result = _run("ventanilla-retention", database, "--days", days)
    assert result.returncode != 0 and "negativos" in result.stderr
