"""Shared fixtures: real services, the trained test model, the real index, the running stack.

Heavy things are built once per test session and cached under ``var/`` between
runs (keyed by content hashes), so a second ``make test`` does not retrain or
re-embed anything that did not change.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Where `make test-assets` builds them (launcher/test_assets.py): one home for both.
from launcher.test_assets import TEST_CONFIG, TEST_INDEX, TEST_MODELS

ROOT = Path(__file__).resolve().parent.parent
APP_PY = ROOT / ".venv" / "bin" / "python"
POSTGRES_URL = os.environ.get("VENTANILLA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skips (locally) or fails (in CI, where the service always runs) when it is down."""
    if _reachable(host, port):
        return
    message = f"{name} no responde en {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}, y en CI siempre debe estar disponible")
    pytest.skip(f"{message}; inícielo para correr esta prueba")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_address() -> tuple[str, int]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return REDIS_HOST, REDIS_PORT


@pytest.fixture(scope="session")
def test_model() -> Path:
    """The Rasa model trained with the fast test config (trained only when data changed)."""
    from launcher.train import ensure_model

    return ensure_model(TEST_CONFIG, TEST_MODELS, "test")


@pytest.fixture(scope="session")
def kb_index_dir() -> Path:
    """The real index (default embedder) over the shipped content, rebuilt only when it changed."""
    env = {**os.environ, "VENTANILLA_KB_INDEX_DIR": str(TEST_INDEX)}
    subprocess.run([str(APP_PY), "-m", "knowledge_base.cli", "build", "--if-changed"], cwd=ROOT, env=env, check=True)
    return TEST_INDEX


@contextmanager
def started_stack(
    model: Path,
    kb_index_dir: Path,
    var_dir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    with_web: bool = False,
    timeout: float = 300,
) -> Iterator[Any]:
    """A whole Ventanilla started for real on free ports, with the test settings.

    Every test stack starts this way; when one fails to start, the tail of each
    process's log is printed so the reason is in the test output.
    """
    from launcher.stack import Ports, Stack, log_tail

    env = {
        "VENTANILLA_KB_INDEX_DIR": str(kb_index_dir),
        "VENTANILLA_ENV": "test",
        # The action guard's deadline (connectors/action_guard.py) is 3 s for citizens; test
        # machines running several suites at once can be slower than that without anything
        # being wrong. The fault-injection stack sets its own (tests/reliability/conftest.py).
        "VENTANILLA_ACTION_TIMEOUT_SECONDS": "30",
        **(extra_env or {}),
    }
    running = Stack(model=model, var_dir=var_dir, ports=Ports.free(), extra_env=env, with_web=with_web)
    try:
        # VENTANILLA_TEST_START_TIMEOUT: more time on a machine shared by several test runs.
        running.start(timeout=float(os.environ.get("VENTANILLA_TEST_START_TIMEOUT") or timeout))
    except Exception:
        for name in ("backend", "actions", "rasa", "web"):
            print(f"--- {name} log ---\n{log_tail(var_dir, name)}")
        raise
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[Any]:
    from tests.channels.fakes import FakeTelegram

    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_graph() -> Iterator[Any]:
    from tests.channels.fakes import FakeGraph

    server = FakeGraph().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def callback_receiver() -> Iterator[Any]:
    """Stands in for the platform behind Rasa's callback channel: records what the bot sends."""
    from tests.backend.recorder import RecordingServer

    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def channel_stack(
    test_model: Path,
    kb_index_dir: Path,
    fake_telegram: Any,
    fake_graph: Any,
    callback_receiver: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """One stack for the channel and the notification tests (one start instead of two).

    Telegram and WhatsApp point at the fake Bot API and Graph API servers, Rasa's callback
    channel at ``callback_receiver``; the action server opens cases through the backend's
    internal API (``HttpCaseRepository``; the session ``stack`` covers the SQL one); the
    dispatcher polls fast; people are always at work, so asking for a person is a live
    handoff (the agents' tests).
    """
    from tests.backend.conftest import STAFF_TOKENS
    from tests.channels.conftest import channel_env

    var_dir = tmp_path_factory.mktemp("channel-stack-var")
    env = {
        "VENTANILLA_REDIS_URL": "",
        "VENTANILLA_OFFICE_HOURS": "mon-sun 00:00-24:00",
        **channel_env(fake_telegram, fake_graph),
        "VENTANILLA_CALLBACK_URL": f"{callback_receiver.url}/bot",
        "VENTANILLA_STAFF_TOKENS": STAFF_TOKENS,
        "VENTANILLA_CASE_REPOSITORY": "http",
        "VENTANILLA_CASE_SERVICE_TOKEN": "e2e-service-token-0123456789abcdef012345",
        "VENTANILLA_NOTIFY_POLL_SECONDS": "0.2",
        "VENTANILLA_NOTIFY_BACKOFF_BASE_SECONDS": "0.5",
        "VENTANILLA_NOTIFY_BACKOFF_MAX_SECONDS": "2",
        "VENTANILLA_NOTIFY_DEFER_SECONDS": "0.5",
    }
    marks = (fake_telegram.mark(), fake_graph.mark())
    with started_stack(test_model, kb_index_dir, var_dir, env) as running:
        # Nothing may reach the platforms while starting up.
        assert fake_telegram.since(marks[0]) == [] and fake_graph.since(marks[1]) == []
        yield running


@pytest.fixture(scope="session")
def stack(test_model: Path, kb_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole system, with the demo page, and a scratch var/ directory."""
    with started_stack(test_model, kb_index_dir, tmp_path_factory.mktemp("stack-var"), with_web=True) as running:
        yield running


class RestChat:
    """A citizen talking to the Rasa REST channel, one conversation per instance."""

    def __init__(self, rasa_url: str, sender: str | None = None) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.sender = sender or f"test-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return list(json.loads(response.read()))


def texts(messages: list[dict[str, Any]]) -> str:
    """All bot texts of a turn, joined, for assertions on content."""
    return "\n".join(m.get("text", "") for m in messages if m.get("text"))


def customs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]


@pytest.fixture
def chat(stack: Any) -> RestChat:
    return RestChat(stack.rasa_url)
