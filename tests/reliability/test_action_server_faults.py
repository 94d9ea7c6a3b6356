"""Item 2: the action server down or hung. Rasa alone says nothing for up to 5 minutes.

Pass criterion: the citizen gets a short apology with a way forward within 5 s, and
the next message once the action server is back is answered normally.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest

from connectors.common.messages import ACTIONS_UNAVAILABLE as APOLOGY
from tests.conftest import customs, texts
from tests.reliability.helpers import new_sender, say

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


QUESTION = "que papeles necesito para sacar el pasaporte por primera vez"
DEADLINE = 5.0


def _answered_from_kb(messages: list[dict[str, Any]]) -> bool:
    return any(c.get("type") == "kb_answer" for c in customs(messages))


def _ask_expecting_apology(rasa_url: str, sender: str) -> tuple[list[dict[str, Any]], float]:
    try:
        status, messages, elapsed = say(rasa_url, sender, QUESTION, timeout=20)
    except TimeoutError:
        pytest.fail("no answer at all within 20 s (Rasa waits for the action server in silence)")
    assert status == 200
    return messages, elapsed


def test_hung_action_server_gets_an_apology_within_5_s_then_the_conversation_continues(fault_stack: Any) -> None:
    sender = new_sender("hung")
    fault_stack.kill("actions", signal.SIGSTOP)  # accepts connections, never answers
    try:
        messages, elapsed = _ask_expecting_apology(fault_stack.rasa_url, sender)
    finally:
        fault_stack.kill("actions", signal.SIGCONT)
    assert elapsed < DEADLINE, f"apology took {elapsed:.1f} s"
    assert texts(messages).count(APOLOGY) == 1, messages

    status, messages, _ = say(fault_stack.rasa_url, sender, QUESTION)
    assert status == 200 and _answered_from_kb(messages), messages
    assert APOLOGY not in texts(messages)


def test_action_server_down_gets_an_apology_within_5_s_then_recovers_after_restart(fault_stack: Any) -> None:
    sender = new_sender("down")
    fault_stack.kill("actions", signal.SIGKILL)
    try:
        messages, elapsed = _ask_expecting_apology(fault_stack.rasa_url, sender)
        assert elapsed < DEADLINE, f"apology took {elapsed:.1f} s"
        assert APOLOGY in texts(messages), messages
    finally:
        fault_stack.restart_actions()
    status, messages, _ = say(fault_stack.rasa_url, sender, QUESTION)
    assert status == 200 and _answered_from_kb(messages), messages
