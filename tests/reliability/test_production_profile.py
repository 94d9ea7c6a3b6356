"""Item 9: the production profile refuses to start with unsafe settings.

Pass criterion: with ``VENTANILLA_ENV=production``, default or short secrets, a tracker
store that is not PostgreSQL (SQLite, or none: memory) and a public webhook URL that is
not https are refused before anything starts, by the launcher and by the Rasa server
itself, with a message that names each variable; a safe profile is accepted.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from connectors.common.production import UnsafeProductionSettings, production_problems, refuse_unsafe_production
from launcher.stack import RASA, ROOT, Ports, Stack

SAFE = {
    "VENTANILLA_ENV": "production",
    "VENTANILLA_RASA_TOKEN": "r" * 40,
    "VENTANILLA_CASE_HASH_KEY": "h" * 40,
    "VENTANILLA_CASE_SERVICE_TOKEN": "s" * 40,
    "VENTANILLA_TRACKER_DIALECT": "postgresql",
    "VENTANILLA_TRACKER_DB": "rasa",
    "VENTANILLA_PUBLIC_URL": "https://chat.example.gob",
}
UNSAFE = {
    "VENTANILLA_ENV": "production",
    "VENTANILLA_CASE_HASH_KEY": "dev-only-case-hash-key-change-me",
    "VENTANILLA_TRACKER_DIALECT": "sqlite",
    "VENTANILLA_TRACKER_DB": "",
    "VENTANILLA_PUBLIC_URL": "http://chat.example.gob",
    "VENTANILLA_TELEGRAM_BOT_TOKEN": "123:abc",
    "VENTANILLA_TELEGRAM_WEBHOOK_SECRET": "short",
}
NAMED = [
    "VENTANILLA_RASA_TOKEN",
    "VENTANILLA_CASE_HASH_KEY",
    "VENTANILLA_CASE_SERVICE_TOKEN",
    "VENTANILLA_TELEGRAM_WEBHOOK_SECRET",
    "VENTANILLA_TRACKER_DIALECT",
    "VENTANILLA_TRACKER_DB",
    "VENTANILLA_PUBLIC_URL",
]


def test_each_unsafe_setting_is_named() -> None:
    problems = "\n".join(production_problems(UNSAFE))
    for name in NAMED:
        assert name in problems, name
    assert production_problems(SAFE) == []
    assert production_problems({**UNSAFE, "VENTANILLA_ENV": "development"}) == []
    assert any(
        "VENTANILLA_WHATSAPP_APP_SECRET" in p
        for p in production_problems({**SAFE, "VENTANILLA_WHATSAPP_ACCESS_TOKEN": "x"})
    )


def test_the_launcher_refuses_before_starting_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMED:
        monkeypatch.delenv(name, raising=False)
    stack = Stack(model=tmp_path / "none.tar.gz", var_dir=tmp_path / "var", ports=Ports.free(), extra_env=UNSAFE)
    stack.rasa_token = "dev"
    with pytest.raises(UnsafeProductionSettings) as refused:
        stack.start(timeout=5)
    assert stack.processes == [] and not (tmp_path / "var").exists()
    for name in NAMED:
        assert name in str(refused.value)
    with pytest.raises(UnsafeProductionSettings):
        refuse_unsafe_production({**SAFE, "VENTANILLA_PUBLIC_URL": "http://x"})


@pytest.mark.slow
def test_the_rasa_server_refuses_on_its_own(tmp_path: Path) -> None:
    """Started without our launcher (as a deployment might), Rasa stops with the same message."""
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("connectors.health.HealthInput:\n")
    model = tmp_path / "model.tar.gz"
    model.touch()  # Rasa mounts its channels before it reads the model
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENTANILLA_")}
    env.update({**UNSAFE, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"})
    started = time.monotonic()
    result = subprocess.run(
        [str(RASA), "run", "--credentials", str(credentials), "--port", "0", "--model", str(model)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    for name in NAMED:
        assert name in output, (name, output[-2000:])
    print(f"Rasa refused in {time.monotonic() - started:.1f} s")
