"""The load benchmark's per-stage breakdown (bench/load_stages.py) reads real sources right."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bench.load_stages import OTHER, Histograms, predictions_per_message, rasa_profile_shares

RASA = ".venv-rasa/lib/python3.10/site-packages/rasa"


def frame(function: str, path: str) -> str:
    return f"{function} ({path}:10)"


def test_each_sample_goes_to_its_innermost_known_stage() -> None:
    loop = frame("run", "asyncio/runners.py")
    handle = frame("handle_message", f"{RASA}/core/processor.py")
    raw = "\n".join(
        [
            ";".join([loop, handle, frame("parse_message", f"{RASA}/core/processor.py"), frame("__call__", "tf.py")])
            + " 6",
            ";".join([loop, handle, frame("_predict_next_with_tracker", f"{RASA}/core/processor.py")]) + " 3",
            # Saving the tracker after the policy ran is the tracker store's time, not the policy's.
            ";".join([loop, handle, frame("save_tracker", f"{RASA}/core/processor.py")])
            + ";"
            + frame("save", f"{RASA}/core/tracker_store.py")
            + " 1",
            ";".join([loop, frame("read", "sanic/http.py")]) + " 10",
        ]
    )
    shares = rasa_profile_shares(raw)
    assert shares == {OTHER: 0.5, "NLU": 0.3, "policy": 0.15, "tracker store": 0.05}


def test_stage_histograms_are_taken_per_level_and_grouped() -> None:
    def histograms(embedding: tuple[float, float], status: tuple[float, float]) -> Histograms:
        stage = "ventanilla_action_stage_seconds"
        return Histograms(
            {
                (stage, (("operation", "search"), ("stage", "embedding"))): embedding,
                (stage, (("operation", "status_for_citizen"), ("stage", "database"))): status,
                ("ventanilla_action_duration_seconds", (("action", "action_answer"),)): (0.0, 0.0),
            }
        )

    level = histograms((3.0, 110.0), (0.5, 12.0)).minus(histograms((1.0, 10.0), (0.5, 12.0)))
    assert level.rows() == [("embedding", 2.0, 100.0)]  # nothing new in the other series: left out


def test_predictions_per_message_counts_only_predicted_actions(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (sender_id TEXT, type_name TEXT, data TEXT)")
        rows = [
            ("load-1", "action", {"name": "action_session_start", "policy": None}),
            ("load-1", "user", {"text": "hola"}),
            ("load-1", "action", {"name": "utter_greet", "policy": "RulePolicy"}),
            ("load-1", "action", {"name": "action_listen", "policy": "RulePolicy"}),
            ("other", "user", {"text": "x"}),
        ]
        conn.executemany("INSERT INTO events VALUES (?, ?, ?)", [(s, t, json.dumps(d)) for s, t, d in rows])
    assert predictions_per_message(db) == (1, 2)
