"""Fuzzing counts per endpoint, kept in ``var/fuzz-counts.json`` across a test run.

Each fuzz test records how many inputs it tried and how many 5xx answers it saw;
tests/RELIABILITY.md quotes the numbers of a run.
"""

from __future__ import annotations

import json
from pathlib import Path

COUNTS_FILE = Path(__file__).resolve().parents[2] / "var" / "fuzz-counts.json"


def record_counts(endpoint: str, inputs: int, server_errors: int) -> None:
    COUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    counts = json.loads(COUNTS_FILE.read_text()) if COUNTS_FILE.exists() else {}
    counts[endpoint] = {"inputs": inputs, "5xx": server_errors}
    COUNTS_FILE.write_text(json.dumps(counts, indent=2, ensure_ascii=False) + "\n")
