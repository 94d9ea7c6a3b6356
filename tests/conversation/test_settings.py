"""The action server refuses wrong office hours, time zone or document profile at start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from actions.settings import ActionSettings, load_settings
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VENTANILLA_OFFICE_HOURS", "VENTANILLA_TIMEZONE", "VENTANILLA_DOCUMENT_PROFILE", "VENTANILLA_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_valid_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_OFFICE_HOURS", "lun-vie 08:00-15:00; sab 09:00-12:00")
    monkeypatch.setenv("VENTANILLA_TIMEZONE", "America/Montevideo")
    monkeypatch.setenv("VENTANILLA_DOCUMENT_PROFILE", " UY ")
    settings = load_settings()
    assert settings.document_profile == "uy"
    assert settings.hours().describe() == "de lunes a viernes, de 08:00 a 15:00; sábado, de 09:00 a 12:00"
    assert str(settings.hours().zone) == "America/Montevideo"


def test_empty_office_hours_mean_no_live_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_OFFICE_HOURS", "")
    assert ActionSettings().hours().windows == ()


@pytest.mark.parametrize(
    ("variable", "value", "explained"),
    [
        ("VENTANILLA_OFFICE_HOURS", "lunes a viernes de 8 a 15", "use por ejemplo 'mon-fri 08:00-15:00'"),
        ("VENTANILLA_OFFICE_HOURS", "mon-fri 15:00-08:00", "termina antes de empezar"),
        ("VENTANILLA_TIMEZONE", "Buenos Aires", "zona horaria desconocida"),
        ("VENTANILLA_DOCUMENT_PROFILE", "argentina", "use one of: ar, cl, co, es, generic, mx, pe, uy"),
    ],
)
def test_a_wrong_setting_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, explained: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value.code)
    assert f"{variable}: " in message and explained in message, message
    assert "Value error" not in message and "pydantic" not in message


def test_every_wrong_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_OFFICE_HOURS", "siempre")
    monkeypatch.setenv("VENTANILLA_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("VENTANILLA_DOCUMENT_PROFILE", "xx")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value.code)
    for variable in ("VENTANILLA_OFFICE_HOURS", "VENTANILLA_TIMEZONE", "VENTANILLA_DOCUMENT_PROFILE"):
        assert variable in message, message


def test_the_server_process_exits_with_the_message_before_loading_anything() -> None:
    env = {**os.environ, "VENTANILLA_DOCUMENT_PROFILE": "xx", "VENTANILLA_TIMEZONE": "Nowhere/City"}
    done = subprocess.run(
        [sys.executable, "-m", "actions.server"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "Configuración inválida del servidor de acciones" in done.stderr
    assert "VENTANILLA_DOCUMENT_PROFILE" in done.stderr and "VENTANILLA_TIMEZONE" in done.stderr
    assert "Traceback" not in done.stderr
