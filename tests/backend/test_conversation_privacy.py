"""Rasa's conversation store forgets citizens too: erasure and retention reach it.

The conversations are written and read back by Rasa's own SQLTrackerStore (with
.venv-rasa's Python), so the table is exactly the one Rasa uses in production; the
deletions go through the real console scripts.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from backend.repository import SqlCaseRepository
from tests.backend.conftest import Database, new_case
from tests.backend.test_privacy import _run
from tests.conftest import ROOT

# The case store's kind is covered by test_privacy.py; here the subject is Rasa's store.
# Rasa's own tracker store runs in a .venv-rasa process.
pytestmark = [pytest.mark.parametrize("database", ["sqlite"], indirect=True), pytest.mark.slow]

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
RASA_TRACKER = Path(__file__).with_name("rasa_tracker.py")


def _rasa(*args: str, stdin: str = "") -> str:
    result = subprocess.run(
        [str(RASA_PY), str(RASA_TRACKER), *args], input=stdin, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def rasa_write(db: Path, sender: str, text: str, days_ago: float = 0) -> None:
    _rasa("write", str(db), stdin=json.dumps({"sender": sender, "text": text, "days_ago": days_ago}))


def rasa_senders(db: Path) -> list[str]:
    return json.loads(_rasa("senders", str(db)))


def test_erasure_deletes_the_citizens_conversations_and_only_theirs(
    repo: SqlCaseRepository, engine: Engine, database: Database, tracker_db: Path
) -> None:
    repo.open_case(new_case(1, document="30.123.456", sender="tg-ana", channel="telegram"))
    repo.open_case(new_case(2, document="27999888", sender="tg-bob", channel="telegram"))
    rasa_write(tracker_db, "tg-ana", "mi documento es 30.123.456")
    rasa_write(tracker_db, "tg-bob", "mi documento es 27999888")
    rasa_write(tracker_db, "web-anonimo", "cuanto cuesta el pasaporte")
    assert rasa_senders(tracker_db) == ["tg-ana", "tg-bob", "web-anonimo"]

    result = _run("ventanilla-privacy", database, "erase", "--yes", stdin="30123456\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["conversaciones_borradas"] == 1
    assert rasa_senders(tracker_db) == ["tg-bob", "web-anonimo"]
    stored = tracker_db.read_bytes()  # deleted rows must not linger in SQLite's free pages
    assert b"30.123.456" not in stored and b"27999888" in stored


def test_retention_deletes_idle_conversations_and_dry_run_deletes_nothing(
    database: Database, engine: Engine, tracker_db: Path
) -> None:
    rasa_write(tracker_db, "tg-viejo", "quiero la partida de nacimiento", days_ago=120)
    rasa_write(tracker_db, "tg-reciente", "hola", days_ago=2)

    dry = _run("ventanilla-retention", database, "--dry-run", "--conversation-days", "90")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["conversaciones"] == 1
    assert rasa_senders(tracker_db) == ["tg-reciente", "tg-viejo"]

    result = _run("ventanilla-retention", database, extra_env={"VENTANILLA_CONVERSATION_RETENTION_DAYS": "90"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["conversaciones"] == 1
    assert rasa_senders(tracker_db) == ["tg-reciente"]


def test_retention_before_rasa_ever_ran_is_not_an_error(database: Database, engine: Engine, tracker_db: Path) -> None:
    result = _run("ventanilla-retention", database)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["conversaciones"] == 0
    assert not tracker_db.exists() or tracker_db.stat().st_size == 0
