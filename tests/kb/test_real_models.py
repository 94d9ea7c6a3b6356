"""The real default model over the real index, and the other back ends loading offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from actions.knowledge import choose_result
from knowledge_base.embedders import make_embedder
from knowledge_base.index import current_manifest, load_index
from knowledge_base.search import Searcher
from knowledge_base.settings import SearchSettings
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def searcher(kb_index_dir: Path) -> Searcher:
    settings = SearchSettings(index_dir=kb_index_dir)
    return Searcher(load_index(kb_index_dir), make_embedder(settings.embedder), settings)


def test_the_test_index_uses_the_default_embedder(kb_index_dir: Path) -> None:
    manifest = current_manifest(kb_index_dir)
    assert manifest is not None
    assert manifest["embedder"] == SearchSettings().embedder == "e5"
    assert manifest["documents"] == 42 and manifest["out_of_scope_topics"] >= 10


@pytest.mark.parametrize(
    ("question", "procedure_id"),
    [
        ("se me perdio la cedula en el colectivo, que hago", "documento-identidad-duplicado"),
        ("kiero sacar el pasaporte x primera vez para mi nena", "pasaporte-emision"),
        ("cuanto sale renovar el brevete", "licencia-conducir-renovacion"),
        ("mi perro necesita la antirrabica, es gratis?", "registro-mascotas"),
        ("hay un pozo enorme en mi calle", "reclamo-via-publica"),
        ("me quede sin laburo, me corresponde algun seguro?", "seguro-desempleo"),
    ],
)
def test_colloquial_questions_land_on_their_procedure(searcher: Searcher, question: str, procedure_id: str) -> None:
    result = searcher.search(question)
    assert not result.abstained, (question, result.confidence)
    assert result.hits[0].procedure_id == procedure_id


@pytest.mark.parametrize(
    "question",
    [
        "como se hace una torta de chocolate sin horno",
        "quien gano el clasico del domingo",
        "a cuanto esta el dolar blue",
        "requisitos para ser astronauta de la nasa",  # once answered with the disability parking permit
    ],
)
def test_off_topic_questions_abstain(searcher: Searcher, question: str) -> None:
    result = searcher.search(question)
    assert result.abstained and result.hits == [], (question, result.confidence)


def test_the_passage_shown_answers_what_was_asked(searcher: Searcher) -> None:
    cost = searcher.search("cuanto sale renovar el brevete")
    assert cost.hits[0].procedure_id == "licencia-conducir-renovacion"
    assert cost.hits[0].passage.section == "cost" and "$" in cost.hits[0].passage.text
    where = searcher.search("a que hora abre la oficina del pasaporte")
    assert where.hits[0].passage.section == "offices" or "horario" in where.hits[0].passage.label.lower()


def test_follow_up_stays_in_the_procedure_and_nonsense_does_not(searcher: Searcher) -> None:
    follow_up = choose_result(searcher, "y cuanto cuesta?", "pasaporte-emision", margin=0.03)
    assert follow_up.hits and follow_up.hits[0].procedure_id == "pasaporte-emision"
    assert "45.000" in follow_up.hits[0].passage.text
    assert choose_result(searcher, "y cuanto cuesta?", None, margin=0.03).abstained  # no context: not enough
    assert choose_result(searcher, "va a llover mañana?", "pasaporte-emision", margin=0.03).abstained
    switched = choose_result(searcher, "perdi el dni, que hago", "pasaporte-emision", margin=0.03)
    assert switched.hits[0].procedure_id == "documento-identidad-duplicado"


def test_sentence_transformers_loads_the_packaged_minilm_offline() -> None:
    # A fresh process: HF_HUB_OFFLINE must be honoured from the start, and nothing may be downloaded.
    code = (
        "from knowledge_base.embedders import make_embedder\n"
        "e = make_embedder('sentence-transformers', 'minilm')\n"
        "q = e.embed_queries(['How do I renew my passport?'])\n"
        "p = e.embed_passages(['Passport renewal: bring your old passport.', 'Recipe for chocolate cake.'])\n"
        "print(e.dim, round(float((q @ p.T)[0, 0]), 3), round(float((q @ p.T)[0, 1]), 3), round(float((p ** 2).sum(1)[0]), 3))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": "/nonexistent-hf-home"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dim, related, unrelated, norm = result.stdout.split()[-4:]
    assert int(dim) == 384 and float(norm) == pytest.approx(1.0, abs=1e-3)
    assert float(related) > float(unrelated) + 0.2


def test_universal_sentence_encoder_loads_and_embeds() -> None:
    embedder = make_embedder("use")
    vectors = embedder.embed_passages(["¿Cuánto cuesta el pasaporte?", "Precio del pasaporte", "Receta de empanadas"])
    assert vectors.shape == (3, embedder.dim) and np.allclose((vectors**2).sum(1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
