"""Configuration: embedded defaults, and production refusing development defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actions.settings import ActionSettings
from backend.settings import BackendSettings


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("VENTANILLA_VAR_DIR", str(tmp_path))
    settings = BackendSettings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'cases.db'}"
    assert settings.env == "development"


def test_environment_variables_use_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_ACTION_PORT", "6123")
    monkeypatch.setenv("VENTANILLA_KB_EMBEDDER", "use")
    settings = ActionSettings()
    assert settings.action_port == 6123
    assert settings.kb.embedder == "use"


def test_production_refuses_development_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_ENV", "production")
    with pytest.raises(ValidationError) as excinfo:
        BackendSettings()
    message = str(excinfo.value)
    assert "VENTANILLA_DATABASE_URL" in message
    assert "VENTANILLA_CASE_HASH_KEY" in message
    assert "VENTANILLA_STAFF_TOKENS" in message


def test_production_accepts_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_ENV", "production")
    monkeypatch.setenv("VENTANILLA_DATABASE_URL", "postgresql://ventanilla@db:5432/ventanilla")
    monkeypatch.setenv("VENTANILLA_CASE_HASH_KEY", "k" * 40)
    monkeypatch.setenv("VENTANILLA_STAFF_TOKENS", "s3cr3t-token:admin")
    monkeypatch.setenv("VENTANILLA_CASE_SERVICE_TOKEN", "t" * 40)
    monkeypatch.setenv("VENTANILLA_CONSOLE_SECRET", "c" * 40)
    assert BackendSettings().env == "production"
