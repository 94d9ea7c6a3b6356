"""Where a message's time goes, for bench/load.py: per-stage figures from real instrumentation.

Three sources, each measured, none estimated:

- The action server's histograms (``/metrics``, actions/metrics.py and actions/stage_timing.py):
  the time of each action call, and inside it the query embedding, the rest of the index
  search and every case / interaction store call. Read before and after a level; the
  difference is that level's.
- A sampling profile of the Rasa process (py-spy, an external binary given with
  ``--py-spy``: a profiling tool, not a dependency of the product). Each sample's Python
  stack is put in the first stage its frames match, innermost frame first: NLU
  (``parse_message``), policy prediction, running an action (Rasa's side of the HTTP
  call), the action guard (connectors/action_guard.py, which Rasa calls on itself),
  tracker store, lock store, event broker, anything else (HTTP, channel, event loop).
  Native threads TensorFlow starts are not sampled: the shares are of Rasa's Python time,
  and ``CPU ms / msg`` (from /proc) is the total.
- Rasa's tracker store after the run: policy predictions per citizen message (every
  predicted action, ``action_listen`` included, is one run of every policy).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

# Stage of a Rasa stack: the first rule (innermost frame first) whose (file part, function) match.
RASA_STAGES: list[tuple[str, str, str]] = [
    ("tracker store", "rasa/core/tracker_store.py", ""),
    ("lock store", "rasa/core/lock_store.py", ""),
    ("event broker", "event_broker", ""),
    ("event broker", "rasa/core/brokers/", ""),
    ("action guard", "connectors/action_guard.py", ""),
    ("NLU", "rasa/core/processor.py", "parse_message"),
    ("NLU", "rasa/core/processor.py", "_parse_message_with_graph"),
    ("policy", "rasa/core/processor.py", "_predict_next_with_tracker"),
    ("action run (Rasa side)", "rasa/core/processor.py", "_run_action"),
]
OTHER = "HTTP, channel, event loop, other"


@dataclass(frozen=True)
class Histograms:
    """(name, labels) -> (sum of seconds, count) of the action server's duration histograms."""

    values: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, float]]

    @classmethod
    def scrape(cls, actions_url: str) -> Histograms:
        text = httpx.get(f"{actions_url}/metrics", timeout=10).text
        found: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = {}
        for family in text_string_to_metric_families(text):
            if family.name not in ("ventanilla_action_stage_seconds", "ventanilla_action_duration_seconds"):
                continue
            for s in family.samples:
                if s.name.endswith(("_sum", "_count")):
                    key = (family.name, tuple(sorted(s.labels.items())))
                    found.setdefault(key, [0.0, 0.0])[0 if s.name.endswith("_sum") else 1] = s.value
        return cls({k: (v[0], v[1]) for k, v in found.items()})

    def minus(self, before: Histograms) -> Histograms:
        return Histograms(
            {
                k: (total - before.values.get(k, (0.0, 0.0))[0], n - before.values.get(k, (0.0, 0.0))[1])
                for k, (total, n) in self.values.items()
            }
        )

    def rows(self) -> list[tuple[str, float, float]]:
        """(stage, seconds, calls) with the database's operations and the actions grouped per name."""
        rows: dict[str, list[float]] = {}
        for (name, labels), (total, n) in self.values.items():
            if n <= 0:
                continue
            label = dict(labels)
            if name == "ventanilla_action_duration_seconds":
                stage = f"action call: {label['action']}"
            elif label["stage"] == "database":
                stage = f"database: {label['operation']}"
            else:
                stage = f"{label['stage'].replace('_', ' ')}"
            row = rows.setdefault(stage, [0.0, 0.0])
            row[0] += total
            row[1] += n
        return sorted(((stage, t, n) for stage, (t, n) in rows.items()), key=lambda r: -r[1])


def classify_stack(frames: list[str]) -> str:
    """The Rasa stage of one sampled stack (outermost frame first, as py-spy writes them)."""
    for frame in reversed(frames):
        for stage, file_part, function in RASA_STAGES:
            if file_part in frame and (not function or frame.startswith(f"{function} ")):
                return stage
    return OTHER


def rasa_profile_shares(raw: str) -> dict[str, float]:
    """Share of samples per stage from py-spy's ``--format raw`` output (collapsed stacks)."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, number = line.rpartition(" ")
        if stack and number.isdigit():
            counts[classify_stack(stack.split(";"))] += int(number)
    total = sum(counts.values()) or 1
    return {stage: n / total for stage, n in counts.most_common()}


class RasaProfiler:
    """py-spy sampling the Rasa process (threads of its whole family) for a level's seconds."""

    def __init__(self, py_spy: str, pid: int, out: Path) -> None:
        self.py_spy, self.pid, self.out = py_spy, pid, out
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, seconds: float) -> None:
        duration = str(max(1, int(seconds)))
        flags = ["--subprocesses", "--rate", "50", "--duration", duration, "--format", "raw", "--nonblocking"]
        self._process = subprocess.Popen(
            [self.py_spy, "record", "--pid", str(self.pid), *flags, "-o", str(self.out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def shares(self) -> dict[str, float]:
        if self._process is None:
            return {}
        self._process.wait(timeout=120)
        return rasa_profile_shares(self.out.read_text()) if self.out.exists() else {}


def predictions_per_message(tracker_db: Path) -> tuple[int, int]:
    """(citizen messages, policy predictions) in a SQLite tracker store of the load's conversations."""
    with sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT type_name, data FROM events WHERE sender_id LIKE 'load-%' AND type_name IN ('user', 'action')"
        ).fetchall()
    messages = sum(1 for kind, _ in rows if kind == "user")
    predicted = sum(1 for kind, data in rows if kind == "action" and json.loads(data).get("policy"))
    return messages, predicted
