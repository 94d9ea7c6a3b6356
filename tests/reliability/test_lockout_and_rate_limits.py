"""Item 1 end to end: a lockout a new conversation cannot reset; a flood throttled politely.

Pass criteria:
* after 5 wrong verifications of one case code from 5 different conversations, a 6th
  conversation giving the right verification is refused ("demasiados intentos") and
  learns nothing about the case;
* 20 messages at once from one sender: the ones beyond the limit (15 per 10 s) get HTTP
  429 with a polite Spanish message and never reach the bot, while the median latency
  of 20 other conversations writing at the same time stays within 3 times their median
  without the flood.
"""

from __future__ import annotations

import statistics
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from backend.db import make_engine
from backend.repository import NewCase, SqlCaseRepository
from backend.settings import DEV_CASE_HASH_KEY
from connectors.common import messages
from tests.conftest import RestChat, texts
from tests.reliability.helpers import new_sender, say

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _case_in(stack: Any, document: str) -> str:
    repo = SqlCaseRepository(make_engine(f"sqlite:///{stack.var_dir / 'cases.db'}"), hash_key=DEV_CASE_HASH_KEY)
    tag = uuid.uuid4().hex
    return repo.open_case(
        NewCase("certificado-residencia", "Ana Pérez", document, "ana@correo.com", "rest", f"owner-{tag}", tag)
    )


def test_new_conversations_get_no_new_guesses_at_a_verification(stack: Any) -> None:
    code = _case_in(stack, "30555777")
    for attempt in range(5):
        attacker = RestChat(stack.rasa_url)  # a new widget session each time
        assert "últimos 4" in texts(attacker.say(f"como va mi tramite {code}"))
        reply = texts(attacker.say(f"{attempt}{attempt}{attempt}{attempt}"))
        assert "recibido" not in reply
    sixth = RestChat(stack.rasa_url)
    sixth.say(f"como va mi tramite {code}")
    reply = texts(sixth.say("5777"))  # the right verification
    assert "demasiados intentos" in reply.lower() and "recibido" not in reply, reply


def _latencies(stack: Any, senders: list[str], text: str) -> list[float]:
    with ThreadPoolExecutor(len(senders)) as pool:
        results = list(pool.map(lambda s: say(stack.rasa_url, s, text), senders))
    assert all(status == 200 for status, _, _ in results)
    return [elapsed for _, _, elapsed in results]


def test_a_flooding_sender_is_throttled_politely_and_others_keep_their_latency(stack: Any) -> None:
    baseline = statistics.median(_latencies(stack, [new_sender("calm") for _ in range(20)], "hola"))
    flooder = new_sender("flood")
    others = [new_sender("calm") for _ in range(20)]
    with ThreadPoolExecutor(21) as pool:  # the 20 flood messages arrive together, as from a script
        flood = [pool.submit(say, stack.rasa_url, flooder, f"hola {i}", 120) for i in range(20)]
        during = statistics.median(_latencies(stack, others, "hola"))
        answers = [f.result() for f in flood]
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] * 15 + [429] * 5, statuses
    refused = [messages_ for status, messages_, _ in answers if status == 429]
    assert all(texts(m) == messages.TOO_FAST for m in refused)
    print(f"median latency of 20 conversations: {baseline:.3f} s alone, {during:.3f} s during the flood")
    assert during <= 3 * baseline + 0.2, (baseline, during)
