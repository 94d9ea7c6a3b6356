"""connectors/tracker_store.py streams exactly the events Rasa's own SQL tracker store streams.

Rasa's store re-reads the stored tracker to find the new events; ours counts the stored rows.
The same conversation (several turns, a new session half-way, a save with nothing new) is
saved through both in Rasa's interpreter, each with its own SQLite file and broker.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


def test_same_events_streamed_as_rasas_own_store(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(RASA_PY), str(Path(__file__).with_name("rasa_streaming_store.py")), str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    streamed = json.loads(result.stdout.strip().splitlines()[-1])
    assert streamed["ours"] == streamed["rasa"]
    assert streamed["ours_sql"] == streamed["rasa"]  # through the SQL broker's one-transaction publish_many
    kinds = [e["event"] for e in streamed["ours"]]
    assert kinds.count("user") == 4 and kinds.count("session_started") == 2
    assert len(kinds) == 3 + 4 * 5 + 2  # every event once: nothing re-sent by the unchanged save
    assert {e["sender_id"] for e in streamed["ours"]} == {"citizen-1"}
