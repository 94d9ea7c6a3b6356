"""The action server answers a fast action while a slow, blocking one is still running.

Real actions, the real Sanic server in its own process, deliberately slow synchronous
fakes (``slow_action_server.py``): a slow call blocks its thread until the test
releases it, which it does only after the fast call has been answered. With actions on
the event loop the fast call would wait for the slow one to give up; run off the loop,
it is answered while the slow one is still blocked, and the slow one then finishes with
a real answer. No timing thresholds: only the order of events is asserted.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # starts a real action server process (no trained model)


def _tracker(sender: str, slots: dict[str, Any], intent: str = "", text: str = "") -> dict[str, Any]:
    return {
        "sender_id": sender,
        "slots": slots,
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.5}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }


def _call(action: str, tracker: dict[str, Any]) -> dict[str, Any]:
    return {
        "next_action": action,
        "sender_id": tracker["sender_id"],
        "tracker": tracker,
        "domain": {},
        "version": "3.6",
    }


SLOW_CALLS = {
    "case status": _call(
        "action_check_case_status", _tracker("slow", {"case_code": "VEN-2026-000001", "verification": "3456"})
    ),
    "search": _call("action_route_message", _tracker("slow", {}, intent="out_of_scope", text="quiero un permiso")),
}
FAST_CALL = _call("action_list_my_cases", _tracker("fast", {"list_verification": "3456"}))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    state = tmp_path_factory.mktemp("slow-actions")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.conversation.slow_action_server", str(port), str(state)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(state / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("slow action server did not start:\n" + (state / "server.log").read_text()[-2000:])
        yield url, state
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/webhook", json=body, timeout=60)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("slow_part", list(SLOW_CALLS))
def test_a_fast_action_completes_while_a_slow_one_blocks(server: tuple[str, Path], slow_part: str) -> None:
    url, state = server
    started, release = state / "slow-started", state / "release"
    started.unlink(missing_ok=True)
    release.unlink(missing_ok=True)
    with ThreadPoolExecutor(1) as pool:
        slow: Future[dict[str, Any]] = pool.submit(_post, url, SLOW_CALLS[slow_part])
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the slow action never reached its slow call"

        fast = _post(url, FAST_CALL)
        slow_still_blocked = not slow.done()  # it cannot finish before the release below
        release.write_text("1")
        slow_result = slow.result(timeout=60)

    assert slow_still_blocked, "the fast action was answered only after the slow one ended"
    assert [m["response"] for m in fast["responses"]] == ["utter_my_cases"]
    if slow_part == "case status":  # released, not given up
        assert [m["response"] for m in slow_result["responses"]] == ["utter_case_status"]
    else:
        assert {"event": "slot", "name": "route", "value": "intent"}.items() <= slow_result["events"][-1].items()
