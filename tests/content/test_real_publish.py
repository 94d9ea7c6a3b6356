"""Integration: publishing with the real e5 model; the action server's holder answers with the new text."""

from __future__ import annotations

import time

import pytest

from backend.content import service
from backend.content.publishing import Publisher
from knowledge_base.search import IndexHolder

pytestmark = pytest.mark.slow

PID = "licencia-conducir-renovacion"
NEW_COST = (
    "Renovación de clases A1, A o B, $ 17.500. Renovación de clases C, D o E, $ 24.000. Examen psicofísico incluido."
)


@pytest.fixture
def e5_publisher(kb):  # type: ignore[no-untyped-def]
    return Publisher(kb.model_copy(update={"embedder": "e5"}))


# SQLite only: what this test adds is the real model (embedding 141 passages takes 1-2 min on
# 2 cores); publishing on PostgreSQL is covered with the fake embedder in test_publish.py.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_publish_with_e5_re_embeds_one_passage_and_the_holder_answers_with_it(sessions, kb, e5_publisher) -> None:  # type: ignore[no-untyped-def]
    session = sessions()
    service.seed_if_empty(session, content_dir=kb.content_dir)
    from backend.content.store import published_data

    full = e5_publisher.rebuild(published_data(session))
    assert full.reused == 0
    holder = IndexHolder(e5_publisher.settings, e5_publisher.embedder(), check_every=0.2)
    before = holder.searcher().search("cuanto cuesta renovar el brevete")
    assert before.hits and before.hits[0].procedure_id == PID and before.hits[0].passage.text != NEW_COST
    content = service.get_content(session, procedure_id=PID)
    draft = service.save_draft(
        session, procedure_id=PID, data={**content.data, "cost": NEW_COST}, base_revision=content.revision, actor="ana"
    )
    review = service.submit_for_review(session, procedure_id=PID, base_revision=draft.revision, actor="ana")
    result = service.publish(
        session, procedure_id=PID, base_revision=review.revision, actor="rita", publisher=e5_publisher
    )
    assert result.embedded_passages == 1 and result.reused_passages == full.embedded - 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        hits = holder.searcher().search("cuanto cuesta renovar el brevete").hits
        if hits and hits[0].passage.text == NEW_COST:
            break
        time.sleep(0.1)
    assert hits and hits[0].procedure_id == PID and hits[0].passage.text == NEW_COST
    session.close()
