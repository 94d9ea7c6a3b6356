"""Retention reaches the unanswered questions: ``ventanilla-retention`` deletes old rows.

The rows keep what a citizen typed (masked), so they follow the conversations' rule: deleted
``VENTANILLA_UNANSWERED_RETENTION_DAYS`` (90) after they were recorded, open or handled, with
``--unanswered-days`` to override and ``--dry-run`` to only count. Run in-process on SQLite
and PostgreSQL (the script's own entry point, ``retention_main``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from backend.cli import retention_main
from backend.unanswered import store
from backend.unanswered.models import Reason, Status, UnansweredQuestion
from tests.backend.conftest import HASH_KEY, Database


def _record(engine: Engine, question: str, *, days_ago: int, status: str = Status.OPEN) -> None:
    with Session(engine) as session, session.begin():
        store.record(
            session, sender_hash="h", channel="telegram", reason=Reason.ABSTAINED, question=question, intent="",
            intent_confidence=None, candidates=[], case_code_prefix="EXP",
        )  # fmt: skip
        session.flush()
        session.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.question == question)
            .values(created_at=datetime.now(timezone.utc) - timedelta(days=days_ago), status=status)
        )


def _questions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(UnansweredQuestion.question).order_by(UnansweredQuestion.id)))


def _retention(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> dict[str, object]:
    monkeypatch.setenv("VENTANILLA_DATABASE_URL", database.url)
    monkeypatch.setenv("VENTANILLA_CASE_HASH_KEY", HASH_KEY)
    assert retention_main(list(args)) == 0
    out = capsys.readouterr().out
    return dict(json.loads(out))


def test_retention_deletes_old_unanswered_questions_and_dry_run_only_counts(
    database: Database,
    engine: Engine,
    tracker_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _record(engine, "pregunta vieja abierta", days_ago=120)
    _record(engine, "pregunta vieja descartada", days_ago=95, status=Status.DISMISSED)
    _record(engine, "pregunta de la semana", days_ago=3)

    dry = _retention(database, monkeypatch, capsys, "--dry-run")
    assert dry["preguntas_sin_respuesta"] == 2 and dry["dias_preguntas_sin_respuesta"] == 90
    assert len(_questions(engine)) == 3

    monkeypatch.setenv("VENTANILLA_UNANSWERED_RETENTION_DAYS", "100")
    done = _retention(database, monkeypatch, capsys)
    assert done["preguntas_sin_respuesta"] == 1
    assert _questions(engine) == ["pregunta vieja descartada", "pregunta de la semana"]

    flag = _retention(database, monkeypatch, capsys, "--unanswered-days", "30")
    assert flag["preguntas_sin_respuesta"] == 1
    assert _questions(engine) == ["pregunta de la semana"]


def test_negative_unanswered_retention_is_refused_and_nothing_is_deleted(
    database: Database, engine: Engine, tracker_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(engine, "pregunta vieja", days_ago=400)
    monkeypatch.setenv("VENTANILLA_DATABASE_URL", database.url)
    with pytest.raises(SystemExit, match="negativos"):
        retention_main(["--unanswered-days", "-1"])
    assert _questions(engine) == ["pregunta vieja"]
