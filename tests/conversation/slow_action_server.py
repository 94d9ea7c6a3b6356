"""An action server with deliberately slow, synchronous fakes behind the real actions.

Run by ``test_action_server_concurrency.py`` as ``python -m tests.conversation.slow_action_server
PORT STATE_DIR``. The slow parts (the case repository's status lookup, the search) write
``STATE_DIR/slow-started`` when they begin, then block their thread (a synchronous wait,
like a slow database or model) until the test writes ``STATE_DIR/release``. Listing the
citizen's cases is fast. If the server ran actions on its event loop, the fast call could
not be answered while a slow one waits: the slow one would give up after ``GIVE_UP``
seconds first.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from actions.server import create_app
from actions.services import Services
from actions.settings import ActionSettings
from backend.repository import CaseStatusView

GIVE_UP = 20.0  # seconds a slow call waits to be released before it gives up
KEY = "test-hash-key-0123456789abcdef0123456789"


def _view(code: str) -> CaseStatusView:
    return CaseStatusView(code, "certificado-residencia", "received", "", datetime.now(UTC), 5)


@dataclass
class Gate:
    state_dir: Path

    def wait(self) -> bool:
        """Blocks the calling thread until released; False when it gave up."""
        (self.state_dir / "slow-started").write_text("1")
        deadline = time.monotonic() + GIVE_UP
        while not (self.state_dir / "release").exists():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


class SlowCases:
    """Status lookups block until released; listing is fast."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def status_for_citizen(self, code: str, verification: str, *, sender_id: str) -> CaseStatusView | None:
        return _view(code) if self.gate.wait() else None

    def cases_for_citizen(self, sender_id: str, verification: str) -> list[CaseStatusView]:
        return [_view("VEN-2026-000001")]


@dataclass
class NoResult:
    closest: list[Any] = field(default_factory=list)
    confidence: float = 0.0


class SlowSearch:
    """Stands in for the index holder; every search blocks until released."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.index = type("Index", (), {"version": "fake"})()

    def searcher(self) -> SlowSearch:
        return self

    def search(self, text: str, **_: Any) -> NoResult:
        if not self.gate.wait():
            raise TimeoutError("nobody released the slow search")
        return NoResult()


def main() -> None:
    port, state_dir = int(sys.argv[1]), Path(sys.argv[2])
    settings = ActionSettings(var_dir=state_dir, case_hash_key=KEY, action_port=port)
    gate = Gate(state_dir)

    def services(s: ActionSettings) -> Services:
        return Services(s, SlowSearch(gate), SlowCases(gate), {}, None)  # type: ignore[arg-type]

    app = create_app(settings, services=services)
    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
