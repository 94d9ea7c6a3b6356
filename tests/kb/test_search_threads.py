"""One ``Searcher`` shared by the action server's worker threads gives the same answers
as when it is used by one thread (spaCy's lemmatizer, BM25, FAISS, the query cache)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.embedders.serial import SerialEmbedder
from knowledge_base.index import load_index
from knowledge_base.search import Searcher
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake

QUESTIONS = [
    "requisitos del certificado de residencia",
    "¿cuánto cuesta el pasaporte?",
    "horarios de atención",
    "dónde se hace el trámite",
    "quiero renovar el documento",
    "qué papeles necesito",
]


def _answer(searcher: Searcher, question: str) -> tuple[list[str], float]:
    result = searcher.search(question, top_k=3)
    return [hit.procedure_id for hit in result.closest], round(result.confidence, 6)


def test_concurrent_searches_match_sequential_ones(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    index = load_index(kb_settings.index_dir)
    expected = {q: _answer(Searcher(index, FakeEmbedder(), kb_settings), q) for q in QUESTIONS}

    shared = Searcher(index, SerialEmbedder(FakeEmbedder()), kb_settings)
    asked = QUESTIONS * 20
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda q: _answer(shared, q), asked))

    assert answers == [expected[q] for q in asked]
    assert any(procedures for procedures, _ in answers)  # the questions do reach procedures
