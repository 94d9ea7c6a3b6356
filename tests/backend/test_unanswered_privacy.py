"""A citizen's unanswered questions are part of their export and go with their erasure.

The rows keep only the interaction sender hash of the channel id; the citizen's cases
hold the channel id, so export and erase find the rows through them (SQLite and
PostgreSQL, the real repository and the real recording path of the action server).
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend import privacy
from backend.interactions import Candidate, InteractionStore
from backend.models import AuditEvent
from backend.repository import SqlCaseRepository
from backend.unanswered.models import Reason, UnansweredQuestion
from tests.backend.conftest import HASH_KEY, new_case


def _asked(store: InteractionStore, sender: str, text: str) -> None:
    store.record_unanswered(
        sender_id=sender, channel="telegram", reason=Reason.ABSTAINED, question=text, intent="ask_procedure",
        intent_confidence=0.3, candidates=[Candidate("certificado-residencia", 0.2)], secrets=[],
    )  # fmt: skip


def test_export_and_erase_reach_the_citizens_unanswered_questions(repo: SqlCaseRepository, engine: Engine) -> None:
    repo.open_case(new_case(1, document="30.123.456", sender="tg-ana", channel="telegram"))
    repo.open_case(new_case(2, document="27999888", sender="tg-bob", channel="telegram"))
    store = InteractionStore(engine, hash_key=HASH_KEY, case_code_prefix="EXP")
    _asked(store, "tg-ana", "¿puedo pagar la tasa de residencia en cuotas? mi mail es ana.perez@correo.com")
    _asked(store, "tg-ana", "horario de la oficina de residencia")
    _asked(store, "tg-bob", "¿dónde renuevo la licencia?")

    with Session(engine) as session:
        exported = privacy.export_citizen(session, hash_key=HASH_KEY, document_number="30123456", actor="dpo")
        session.commit()
    questions = [q["pregunta_con_datos_ocultados"] for q in exported["preguntas_sin_respuesta"]]
    assert len(questions) == 2 and "horario de la oficina de residencia" in questions
    assert not any("ana.perez" in q or "licencia" in q for q in questions)  # masked; not another citizen's

    with Session(engine) as session:
        privacy.erase_citizen(session, hash_key=HASH_KEY, document_number="30123456", actor="dpo")
        session.commit()
    with Session(engine) as session:
        left = session.scalars(select(UnansweredQuestion.question)).all()
        assert left == ["¿dónde renuevo la licencia?"]
        assert session.scalar(select(func.count()).where(AuditEvent.action == "unanswered.erased")) == 1
