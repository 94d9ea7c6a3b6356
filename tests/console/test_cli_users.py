"""``python -m backend users``: accounts from the terminal, the password never on the command line.

One real ``python -m backend users`` process proves the entry point; the other commands run
the same ``main`` in this process (each new interpreter costs tens of seconds on a busy machine).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.accounts import passwords
from backend.accounts.models import StaffUser
from backend.cli_users import main
from backend.db import make_engine
from backend.models import AuditEvent
from tests.conftest import ROOT


def _in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_reset_disable_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "VENTANILLA_VAR_DIR": str(tmp_path)}
    env.pop("VENTANILLA_DATABASE_URL", None)
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend",
            "users",
            "create",
            "Maria.Perez",
            "--role",
            "editor",
            "--role",
            "case-officer",
            "--name",
            "María Pérez",
        ],
        input="una frase bastante larga\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert "creada" in created.stderr

    monkeypatch.setenv("VENTANILLA_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("VENTANILLA_DATABASE_URL", raising=False)
    code, _, err = _in_process(monkeypatch, capsys, "reset-password", "maria.perez", stdin="password1234\n")
    assert code == 1 and "común" in err
    assert (
        _in_process(monkeypatch, capsys, "reset-password", "maria.perez", stdin="otra frase bastante larga\n")[0] == 0
    )
    assert _in_process(monkeypatch, capsys, "disable", "maria.perez")[0] == 0
    code, _, err = _in_process(
        monkeypatch, capsys, "create", "otro", "--role", "jefe", stdin="una frase bastante larga\n"
    )
    assert code == 1 and "Rol desconocido" in err
    code, _, err = _in_process(monkeypatch, capsys, "disable", "nadie")
    assert code == 1 and "no existe" in err

    code, listed, _ = _in_process(monkeypatch, capsys, "list")
    assert "maria.perez\tcase_officer,editor\tdesactivada\tMaría Pérez" in listed

    engine = make_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    with engine.connect() as conn:
        stored = conn.execute(select(StaffUser.password_hash)).scalar_one()
        actions = list(conn.execute(select(AuditEvent.action, AuditEvent.actor)))
    engine.dispose()
    assert stored.startswith("$argon2id$") and passwords.verify_password(stored, "otra frase bastante larga")
    assert [a for a, _ in actions] == ["user.created", "user.password_reset", "user.disabled"]
    assert all(actor.startswith("cli") for _, actor in actions)
