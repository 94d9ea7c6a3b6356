"""Items 3 and 8: the case database fails mid-creation; no personal data in any log.

Item 3 pass criterion: when the database connection drops after the case row was
inserted but before the transaction ends, no row of the case is left (case, history,
consents), the citizen is told nothing was saved and to try again, and after the
database is back one retry creates exactly one case.

Item 8 pass criterion: after a conversation with a document number, a phone number,
an e-mail and a name that ends in an action error (the failure above), with every
process logging at DEBUG, none of those values appears in any log file, in any
format the citizen wrote it.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from tests.reliability.conftest import direct_case_db_url
from tests.reliability.faults import TcpCutter
from tests.reliability.helpers import all_logs, new_sender, say, texts

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres]


CODE_RE = re.compile(r"EXP-\d{4}-\d{6}")
NAME = "Rosalía Quiroga Benítez"
DOCUMENT = "31987654"
PHONE = "11 4567-8912"
EMAIL = "rosalia.quiroga@correo.com"


def _fill(rasa_url: str, sender: str) -> None:
    """Opens a case up to its summary (the same steps as tests/conversation/test_flows_rest.py)."""

    def step(text: str) -> str:
        status, messages, _ = say(rasa_url, sender, text)
        assert status == 200, messages
        return texts(messages).lower()

    assert "qué trámite" in step("quiero iniciar un trámite")
    assert "nombre" in step("certificado de residencia")
    assert "documento" in step(f"me llamo {NAME}")
    assert "correo" in step(f"mi dni es {DOCUMENT}")
    assert "privacidad" in step(EMAIL)
    assert "revise sus datos" in step("sí, acepto")


def _rows(case_database: str) -> dict[str, int]:
    with psycopg.connect(direct_case_db_url(case_database)) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("cases", "case_status_changes", "consent_records")
        }


def _confirm_during_outage(fault_stack: Any, db_cutter: TcpCutter, sender: str) -> str:
    cuts = db_cutter.cuts
    db_cutter.cut_on(b"INSERT INTO case_status_changes")
    try:
        status, messages, _ = say(fault_stack.rasa_url, sender, "confirmo")
    finally:
        db_cutter.restore()
    assert db_cutter.cuts > cuts, "the database was not cut: the test did not test anything"
    assert status == 200
    return texts(messages)


def test_database_down_mid_creation_leaves_nothing_and_one_retry_creates_one_case(
    fault_stack: Any, db_cutter: TcpCutter, case_database: str
) -> None:
    before = _rows(case_database)
    sender = new_sender("dbcut")
    _fill(fault_stack.rasa_url, sender)
    reply = _confirm_during_outage(fault_stack, db_cutter, sender)
    assert "no pude registrar" in reply.lower() and "intente de nuevo" in reply.lower(), reply
    assert not CODE_RE.search(reply), reply
    assert _rows(case_database) == before, "half-written case left behind"

    _fill(fault_stack.rasa_url, sender)  # the citizen tries again once the database is back
    status, messages, _ = say(fault_stack.rasa_url, sender, "confirmo")
    assert status == 200 and CODE_RE.search(texts(messages)), messages
    after = _rows(case_database)
    assert after["cases"] == before["cases"] + 1
    assert after["case_status_changes"] == before["case_status_changes"] + 1


def test_no_personal_data_in_any_log_at_debug_after_an_action_error(fault_stack: Any, db_cutter: TcpCutter) -> None:
    sender = new_sender("pii")
    status, _, _ = say(fault_stack.rasa_url, sender, f"hola, mi celular es {PHONE} y mi correo {EMAIL}")
    assert status == 200
    _fill(fault_stack.rasa_url, sender)
    assert "no pude registrar" in _confirm_during_outage(fault_stack, db_cutter, sender).lower()

    logs = all_logs(fault_stack.var_dir)
    assert " DEBUG " in logs, "the processes do not log at DEBUG: the check would prove little"
    assert "case creation failed" in logs, "the action error was not logged"
    digits = re.sub(r"\D", "", PHONE)
    for value in (DOCUMENT, "31.987.654", PHONE, digits, digits[-8:], EMAIL, NAME, "Quiroga", "Rosalía"):
        assert value not in logs, f"{value!r} found in the logs"
