"""`rasa test core` with the test stories in tests/stories/: every flow, including the
unhappy paths (cancel, correction, digression, failed verification, out of scope).

Rasa's core evaluation predicts each next action from the story's events without
running the actions, so no action server is needed: the slot events the actions and
forms produce are written in the stories (taken from real conversations).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
STORIES = ROOT / "tests" / "stories"


def test_the_stories_cover_every_flow() -> None:
    names = " ".join(
        story["story"] for path in STORIES.glob("*.yml") for story in yaml.safe_load(path.read_text())["stories"]
    ).lower()
    for flow in (
        "open a case", "correct", "cancel", "question in the middle", "out of scope", "failed verification",
        "lock the conversation out", "mis trámites", "person", "message", "suggestion", "rating", "not understood",
        "disambiguation", "procedure named", "answered by the knowledge base",
    ):  # fmt: skip
        assert flow in names, f"no test story for {flow!r}"


def test_every_test_story_passes(test_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "core"
    result = subprocess.run(
        [
            str(RASA),
            "test",
            "core",
            "--model",
            str(test_model),
            "--stories",
            str(STORIES),
            "--out",
            str(out),
            "--no-plot",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    failed = (out / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed - all good!" in failed, failed[:6000]
    stories = sum(len(yaml.safe_load(p.read_text())["stories"]) for p in STORIES.glob("*.yml"))
    assert stories >= 41
