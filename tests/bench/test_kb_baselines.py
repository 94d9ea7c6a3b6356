"""The baselines of bench/kb_baselines.py are built from the content they are compared on."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.kb_baselines import Answer, lexical_answerer, metrics, write_rasa_project
from knowledge_base.evaluation import Question
from knowledge_base.index import load_index
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import SAMPLE, build_fake, kb_root, kb_settings

__all__ = ["kb_root", "kb_settings"]  # the knowledge-base tests' fixtures, used here too


def test_the_rasa_faq_data_has_one_retrieval_sub_intent_and_response_per_procedure(
    kb_settings: SearchSettings, tmp_path: Path
) -> None:
    digest = write_rasa_project(tmp_path / "rasa", kb_settings)
    nlu = yaml.safe_load((tmp_path / "rasa" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]
    domain = yaml.safe_load((tmp_path / "rasa" / "domain.yml").read_text(encoding="utf-8"))
    intents = {block["intent"]: block["examples"] for block in nlu}
    assert set(intents) == {f"faq/{pid}" for pid in SAMPLE} | {"out_of_scope"}
    assert set(domain["responses"]) == {f"utter_faq/{pid}" for pid in SAMPLE}
    passport = intents["faq/pasaporte-emision"]
    assert "- Emisión de pasaporte (primera vez)\n" in passport  # the title, then FAQ questions
    assert passport.count("\n- ") >= 5
    assert write_rasa_project(tmp_path / "again", kb_settings) == digest, "same content, same cached model"


def test_lexical_alone_answers_by_words_and_abstains_only_without_any(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    answer = lexical_answerer(load_index(kb_settings.index_dir))
    assert answer("cuanto cuesta renovar la licencia de conducir") == ("licencia-conducir-renovacion", True)
    assert answer("xyzzy qwerty") == (None, False)


def test_metrics_count_an_abstention_as_a_miss_and_as_right_on_null_questions() -> None:
    questions = [Question("a", "p1"), Question("b", "p2"), Question("c", None), Question("d", None)]
    answers = [
        Answer("p1", True, 1.0, 1.0),
        Answer("p2", False, 3.0, 2.0),  # right guess, but abstained
        Answer(None, False, 2.0, 1.0),
        Answer("p1", True, 4.0, 1.0),
    ]
    m = metrics(questions, answers)
    assert (m["top1"], m["top1_no_abstention"], m["abstain_on_null"]) == (0.5, 1.0, 0.5)
    assert m["median_ms"] == 2.5
