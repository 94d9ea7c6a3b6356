"""Publishing: incremental embedding, same results as a full rebuild, hot swap under load, rollback, preview."""

from __future__ import annotations

import threading
import time

from backend.content import service
from backend.content.store import published_data
from knowledge_base.corpus import corpus_from_procedures
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.index import build_index, current_version, load_index
from knowledge_base.passages import procedure_passages
from knowledge_base.schema import Procedure
from knowledge_base.search import IndexHolder, Searcher

PID = "registro-mascotas"
NEW_ANSWER = "El registro de mascotas es gratuito durante todo 2026 y se hace en la veterinaria municipal."
QUESTIONS = (
    "cuanto cuesta registrar mi perro",
    "me robaron la cedula",
    "pagar el predial",
    "renovar licencia",
    "pasaporte menor",
)


def _publish_new_faq(session, publisher, answer: str = NEW_ANSWER):  # type: ignore[no-untyped-def]
    content = service.get_content(session, procedure_id=PID)
    faqs = [dict(f) for f in content.data["faqs"]]
    faqs[0]["answer"] = answer
    draft = service.save_draft(
        session, procedure_id=PID, data={**content.data, "faqs": faqs}, base_revision=content.revision, actor="ana"
    )
    review = service.submit_for_review(session, procedure_id=PID, base_revision=draft.revision, actor="ana")
    return service.publish(session, procedure_id=PID, base_revision=review.revision, actor="rita", publisher=publisher)


def test_publish_embeds_only_the_changed_passages_and_matches_a_full_rebuild(seeded, publisher, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = current_version(kb.index_dir)
    result = _publish_new_faq(seeded, publisher)
    embedded = publisher.embedder().embedded
    own = {p.embed_text for p in procedure_passages(Procedure.model_validate(published_data(seeded)[PID]))}
    assert embedded and set(embedded) <= own  # only passages of the published procedure
    assert len(embedded) == result.embedded_passages == 1  # the edited FAQ (question + answer passage)
    assert result.reused_passages > 100
    assert current_version(kb.index_dir) == result.index_version != before
    # A full rebuild of the same content gives the same search results.
    corpus = corpus_from_procedures(
        [Procedure.model_validate(d) for _, d in sorted(published_data(seeded).items())], kb
    )
    full_dir = tmp_path / "full"
    build_index(
        corpus.passages,
        corpus.documents,
        FakeEmbedder(),
        full_dir,
        hnsw_min_size=kb.hnsw_min_size,
        out_of_scope=corpus.out_of_scope,
        rewriter=corpus.rewriter,
    )
    incremental = Searcher(load_index(kb.index_dir), FakeEmbedder(), kb)
    full = Searcher(load_index(full_dir), FakeEmbedder(), kb)
    for question in (*QUESTIONS, "registro de mascotas gratuito"):
        a, b = incremental.search(question), full.search(question)
        assert [(h.procedure_id, h.passage.passage_id, round(h.score, 5)) for h in a.closest] == [
            (h.procedure_id, h.passage.passage_id, round(h.score, 5)) for h in b.closest
        ]
        assert a.abstained == b.abstained


def test_searching_in_a_loop_while_publishing_fails_nothing_and_rollback_brings_the_old_text(
    seeded, publisher, kb
) -> None:  # type: ignore[no-untyped-def]
    holder = IndexHolder(kb, FakeEmbedder(), check_every=0.0)
    first = holder.searcher().index.version
    stop = threading.Event()
    errors: list[BaseException] = []
    answered = [0]

    def loop() -> None:
        i = 0
        while not stop.is_set():
            try:
                assert holder.searcher().search(QUESTIONS[i % len(QUESTIONS)]).closest
                answered[0] += 1
            except BaseException as exc:  # noqa: BLE001 - any failure during the swap fails the test
                errors.append(exc)
                return
            i += 1

    threads = [threading.Thread(target=loop) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        result = _publish_new_faq(seeded, publisher)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and holder.searcher().index.version != result.index_version:
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors and answered[0] > 0
    served = holder.searcher()
    assert served.index.version == result.index_version
    assert any(p.text == NEW_ANSWER for p in served.index.passages)
    assert service.rollback_index(publisher=publisher) == first
    assert holder.searcher().index.version == first
    assert not any(p.text == NEW_ANSWER for p in holder.searcher().index.passages)


def test_preview_answers_with_the_draft_like_the_bot_and_abstains_like_it(seeded, publisher) -> None:  # type: ignore[no-untyped-def]
    content = service.get_content(seeded, procedure_id=PID)
    faqs = [dict(f) for f in content.data["faqs"]]
    faqs[0] = {"question": "¿Cuánto cuesta registrar a mi perro?", "answer": NEW_ANSWER}
    draft = {**content.data, "faqs": faqs}
    seen = service.preview(
        seeded, procedure_id=PID, question="cuanto cuesta registrar a mi perro", publisher=publisher, data=draft
    )
    assert not seen.abstained and seen.hits[0].procedure_id == PID
    assert NEW_ANSWER in seen.hits[0].answer
    published = service.preview(
        seeded, procedure_id=PID, question="cuanto cuesta registrar a mi perro", publisher=publisher, data=None
    )
    assert NEW_ANSWER not in " ".join(h.answer for h in published.hits)
    nonsense = service.preview(
        seeded, procedure_id=PID, question="receta de empanadas de carne", publisher=publisher, data=draft
    )
    assert nonsense.abstained and not nonsense.hits
