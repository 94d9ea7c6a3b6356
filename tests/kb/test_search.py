"""Hybrid search with the fake embedder: BM25, fusion, per-procedure aggregation, rewriting, abstention."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.index import load_index
from knowledge_base.lexical import Bm25Index, analyze, fold_accents
from knowledge_base.rewrite import QueryRewriter, parse_rules
from knowledge_base.search import Searcher
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake


def test_analyze_lemmatises_and_folds_accents() -> None:
    assert analyze("¿Cuánto cuesta el trámite?") == ["costar", "tramitar"]
    assert analyze("Trámites") == analyze("tramite")
    assert fold_accents("Pensión") == "Pension"


def test_bm25_prefers_rare_terms_and_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    docs = [["pasaporte", "turno"], ["turno", "medico"], ["turno", "escuela"], ["patente", "auto", "auto"]]
    bm25 = Bm25Index.build(docs)
    scores = bm25.scores(["pasaporte", "turno"])
    assert int(np.argmax(scores)) == 0
    assert scores[1] == scores[2] > 0 and scores[3] == 0
    assert bm25.max_weight("pasaporte") > bm25.max_weight("turno")  # rarer term weighs more
    assert bm25.scores(["auto"])[3] > 0 and bm25.max_weight("nada") == 0.0
    bm25.save(tmp_path)
    again = Bm25Index.load(tmp_path)
    assert np.array_equal(again.scores(["turno", "auto"]), bm25.scores(["turno", "auto"]))


def test_colloquial_questions_find_their_procedure(fake_searcher: Searcher) -> None:
    cases = {
        "cuanto cuesta el pasaporte para mi hijo": "pasaporte-emision",
        "me robaron la cedula": "documento-identidad-duplicado",
        "renovar el brevete vencido": "licencia-conducir-renovacion",
        "vacuna antirrabica para mi perro": "registro-mascotas",
        "pagar el impuesto predial de mi casa": "impuesto-predial",
    }
    for question, expected in cases.items():
        result = fake_searcher.search(question)
        assert not result.abstained, question
        assert result.hits[0].procedure_id == expected, question
        assert result.hits[0].document.source_url.endswith(f"/tramites/{expected}")


def test_unrelated_questions_abstain_but_keep_closest(fake_searcher: Searcher) -> None:
    for question in ("receta de empanadas de carne", "a cuanto esta el dolar hoy", "va a llover mañana"):
        result = fake_searcher.search(question)
        assert result.abstained and result.hits == [], question
        assert result.closest, "closest procedures are kept to offer as buttons"
        assert result.confidence < fake_searcher.tuning.abstain_threshold


def test_empty_question_abstains(fake_searcher: Searcher) -> None:
    result = fake_searcher.search("   ")
    assert result.abstained and result.closest == []


def test_threshold_decides_abstention(fake_searcher: Searcher) -> None:
    result = fake_searcher.search("me robaron la cedula")
    assert not fake_searcher.search("me robaron la cedula", threshold=result.confidence - 1e-6).abstained
    assert fake_searcher.search("me robaron la cedula", threshold=result.confidence + 1e-6).abstained


def test_out_of_scope_topics_lower_the_confidence(fake_searcher: Searcher) -> None:
    question = "quien gano el partido de futbol del domingo"
    with_topics = fake_searcher.search(question)
    index = dataclasses.replace(fake_searcher.index, out_of_scope=np.zeros((0, FakeEmbedder().dim), np.float32))
    without = Searcher(index, FakeEmbedder(), fake_searcher.settings).search(question)
    assert with_topics.out_of_scope > 0.3 and without.out_of_scope == 0.0
    assert with_topics.confidence == pytest.approx(without.confidence - with_topics.out_of_scope, abs=1e-5)


def test_rewriting_adds_the_content_word(fake_searcher: Searcher) -> None:
    result = fake_searcher.search("se me perdio la cedula")
    assert result.rewritten == "se me perdio la cedula (documento de identidad)"
    plain = dataclasses.replace(fake_searcher.index, rewriter=QueryRewriter())
    unrewritten = Searcher(plain, FakeEmbedder(), fake_searcher.settings).search("se me perdio la cedula")
    assert unrewritten.rewritten == "se me perdio la cedula"
    assert result.hits[0].procedure_id == "documento-identidad-duplicado"
    assert result.confidence > unrewritten.confidence


def test_rewrite_rules() -> None:
    rewriter, problems = parse_rules(
        {
            "abbreviations": {"que": ["q", "k"], "por": ["x"]},
            "synonyms": {"licencia de conducir": ["brevete", "licencia de manejo"]},
        },
        "synonyms.yml",
    )
    assert problems == []
    assert rewriter.rewrite("Q necesito x el Brevete?") == "que necesito por el Brevete? (licencia de conducir)"
    assert (
        rewriter.rewrite("quiero la licencia de conducir, el brevete") == "quiero la licencia de conducir, el brevete"
    )  # already there
    assert rewriter.rewrite("kiosco y brevetes") == "kiosco y brevetes"  # whole words only
    assert QueryRewriter.from_dict(rewriter.to_dict()) == rewriter


def test_lexical_weight_changes_the_fusion(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    index = load_index(kb_settings.index_dir)
    question = "pasaporte"
    semantic = Searcher(index, FakeEmbedder(), kb_settings.model_copy(update={"lexical_weight": 0.0})).search(question)
    fused = Searcher(index, FakeEmbedder(), kb_settings.model_copy(update={"lexical_weight": 0.5})).search(question)
    best_sem, best_fused = semantic.closest[0], fused.closest[0]
    assert best_sem.procedure_id == best_fused.procedure_id == "pasaporte-emision"
    assert best_fused.lexical > 0
    assert best_fused.score > best_sem.score


def test_aggregation_rewards_procedures_with_several_relevant_passages(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    index = load_index(kb_settings.index_dir)
    question = "requisitos del pasaporte"
    settings = kb_settings.model_copy(update={"aspect_bonus": 0.0})  # the shown passage is then the best one
    hard = Searcher(index, FakeEmbedder(), settings.model_copy(update={"temperature": 0.0})).search(question)
    soft = Searcher(index, FakeEmbedder(), settings.model_copy(update={"temperature": 0.05})).search(question)
    best = hard.closest[0]
    # With temperature 0 the score is the best passage's fused score.
    assert best.score == pytest.approx(
        best.semantic + hard.closest[0].lexical * Searcher(index, FakeEmbedder(), kb_settings).tuning.lexical_weight,
        abs=1e-5,
    )
    # A soft maximum is never below the maximum, and grows with the number of close passages.
    assert soft.closest[0].score > best.score
    assert soft.closest[0].passage.passage_id == best.passage.passage_id


def test_within_scores_one_procedure_only(fake_searcher: Searcher) -> None:
    result = fake_searcher.search("y cuanto cuesta", within="impuesto-predial", threshold=-1.0)
    assert [h.procedure_id for h in result.hits] == ["impuesto-predial"]
    assert fake_searcher.search("y cuanto cuesta", within="no-existe").abstained


def test_index_built_with_another_embedder_is_refused(fake_searcher: Searcher) -> None:
    class Other(FakeEmbedder):
        name = "e5"

    with pytest.raises(ValueError, match="reconstruya"):
        Searcher(fake_searcher.index, Other(), fake_searcher.settings)


def test_settings_tuning_defaults_per_embedder_and_overrides() -> None:
    settings = SearchSettings(abstain_threshold=0.5)
    assert settings.tuning("e5").abstain_threshold == 0.5
    assert settings.tuning("e5").lexical_weight == SearchSettings().tuning("e5").lexical_weight
    assert SearchSettings().tuning("use") != SearchSettings().tuning("e5")


def test_aspects_of_questions_and_passages() -> None:
    from knowledge_base.aspects import aspect_of, passage_aspect

    assert aspect_of("cuanto sale el pasaporte") == "cost"
    assert aspect_of("¿Qué cursos gratuitos hay?") == "cost"
    assert aspect_of("cuantos dias tarda") == "processing_time"
    assert aspect_of("que papeles piden") == "requirements"
    assert aspect_of("donde queda la oficina") == "offices"
    assert aspect_of("como hago una queja contra la oficina de rentas") == "steps"
    assert aspect_of("se puede hacer por internet") == "channels"
    assert aspect_of("me cambie de casa y la direccion del dni es vieja") is None  # the citizen's own address
    assert passage_aspect("cost", "Costo") == "cost"
    assert passage_aspect("faq", "¿Cuánto cuesta el pasaporte para un menor?") == "cost"
    assert passage_aspect("summary", "Qué es") is None


def test_the_passage_shown_answers_the_aspect_without_changing_the_ranking(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    index = load_index(kb_settings.index_dir)
    question = "q papeles necesito para el pasaporte"
    plain = Searcher(index, FakeEmbedder(), kb_settings.model_copy(update={"aspect_bonus": 0.0})).search(question)
    aware = Searcher(index, FakeEmbedder(), kb_settings.model_copy(update={"aspect_bonus": 1.0})).search(question)
    assert [h.procedure_id for h in plain.closest] == [h.procedure_id for h in aware.closest]
    assert [h.score for h in plain.closest] == [h.score for h in aware.closest]
    assert aware.confidence == plain.confidence
    assert aware.hits[0].passage.section == "requirements" or aware.hits[0].passage.label.startswith("¿")
    assert aware.hits[0].passage.passage_id == "pasaporte-emision#requirements"


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        self.queries.extend(texts)
        return super().embed_queries(texts)


def test_repeated_questions_are_embedded_once_unless_the_cache_is_off(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    index = load_index(kb_settings.index_dir)
    counting = CountingEmbedder()
    cached = Searcher(index, counting, kb_settings.model_copy(update={"query_cache_size": 2}))
    first = cached.search("perdi el dni que hago")
    again = cached.search("perdi el dni que hago", within="documento-identidad-duplicado")  # a follow-up searches twice
    assert counting.queries == ["perdi el dni que hago (documento de identidad)"]
    assert again.hits[0].score == pytest.approx(first.hits[0].score)
    for question in ("pasaporte", "patente", "perdi el dni que hago"):  # the oldest entry was pushed out
        cached.search(question)
    assert len(counting.queries) == 4
    uncached = Searcher(index, CountingEmbedder(), kb_settings.model_copy(update={"query_cache_size": 0}))
    uncached.search("pasaporte")
    uncached.search("pasaporte")
    assert uncached.embedder.queries == ["pasaporte", "pasaporte"]  # type: ignore[attr-defined]
