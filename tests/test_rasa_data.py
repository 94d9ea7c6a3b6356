"""`rasa data validate` over the real domain, stories, rules and NLU data."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


@pytest.mark.slow
def test_rasa_data_validate_passes() -> None:
    result = subprocess.run(
        [
            str(RASA),
            "data",
            "validate",
            "--domain",
            "bot/domain",
            "--data",
            "bot/dialogue",
            "data/nlu",
            "--config",
            "config.yml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), "HOME": "/tmp"},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
