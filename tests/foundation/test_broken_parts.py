"""A broken part stops the system loudly instead of answering citizens wrongly.

The end-to-end tests depend on the action server, the index and the database; these
tests show what each process does when its part is missing or broken.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from launcher.stack import APP_PY, ROOT, Ports, Stack

pytestmark = pytest.mark.slow


def _run(module: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APP_PY), "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_action_server_refuses_to_start_without_an_index(tmp_path: Path) -> None:
    stack = Stack(
        model=tmp_path / "unused.tar.gz",
        var_dir=tmp_path,
        ports=Ports.free(),
        extra_env={"VENTANILLA_KB_INDEX_DIR": str(tmp_path / "no-index"), "VENTANILLA_KB_EMBEDDER": "fake"},
    )
    result = _run("actions.server", stack.environment())
    assert result.returncode != 0
    assert "kb build" in result.stdout + result.stderr  # the error says how to fix it


def test_backend_health_fails_when_the_database_is_unusable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the database folder should be")
    stack = Stack(
        model=tmp_path / "unused.tar.gz",
        var_dir=tmp_path,
        ports=Ports.free(),
        extra_env={"VENTANILLA_DATABASE_URL": f"sqlite:///{blocker}/cases.db"},
    )
    result = _run("backend", stack.environment(), timeout=60)
    assert result.returncode != 0
    assert "not-a-dir" in result.stdout + result.stderr  # it failed on the database path, not elsewhere
