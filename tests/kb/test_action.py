"""The knowledge action: what the citizen receives (fake embedder, real action class and rasa_sdk)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services as services_module
from actions.knowledge import ActionAnswerProcedure, choose_result
from actions.services import Services
from actions.settings import ActionSettings
from knowledge_base.corpus import load_corpus
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.importer import import_file
from knowledge_base.search import Hit, IndexHolder, SearchResult
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake


@pytest.fixture
def install(kb_settings: SearchSettings) -> Iterator[Any]:
    """Installs services around a fake index; returns a function to (re)install with other settings."""

    def _install(settings: SearchSettings = kb_settings) -> None:
        if not settings.index_dir.exists():
            build_fake(settings)
        holder = IndexHolder(settings, FakeEmbedder(), check_every=0.0)
        services_module.set_services(
            Services(ActionSettings(kb=settings), holder, cases=None, titles={}, interactions=None)
        )  # type: ignore[arg-type]

    _install()
    yield _install
    services_module.set_services(None)  # type: ignore[arg-type]


def ask(
    text: str, slots: dict[str, Any] | None = None, entities: list[dict[str, str]] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tracker = Tracker(
        sender_id="test",
        slots=dict(slots or {}),
        latest_message={"text": text, "entities": entities or [], "intent": {"name": "ask_procedure"}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerProcedure().run(dispatcher, tracker, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: list[dict[str, Any]]) -> list[str | None]:
    return [m.get("response") or ("json" if m.get("custom") else None) for m in messages]


def test_an_answer_is_passage_source_payload_buttons(install: Any) -> None:
    messages, slots = ask("me robaron la cedula, como saco otra")
    assert responses(messages) == ["utter_kb_answer", "utter_kb_source", "json", "utter_kb_next_steps"]
    answer, source, payload, next_steps = messages
    content = Path(__file__).resolve().parents[2] / "knowledge_base" / "content" / "documento-identidad-duplicado.yml"
    assert len(answer["answer"]) < len(content.read_text(encoding="utf-8")) / 4  # one passage, not the file
    assert payload["custom"]["type"] == "kb_answer"
    assert payload["custom"]["procedure_id"] == next_steps["procedure_id"] == "documento-identidad-duplicado"
    assert source["title"] == payload["custom"]["title"]
    assert source["source_url"] == payload["custom"]["source_url"]
    assert source["source_url"].endswith("/tramites/documento-identidad-duplicado")
    reviewed = payload["custom"]["last_reviewed"]  # ISO in the payload, dd/mm/yyyy for people
    assert source["last_reviewed"] == f"{reviewed[8:10]}/{reviewed[5:7]}/{reviewed[:4]}"
    assert set(payload["custom"]) == {"type", "procedure_id", "title", "source_url", "last_reviewed", "score"}
    assert slots == {"last_procedure": "documento-identidad-duplicado", "kb_abstain_count": 0.0, "kb_answered": True}


def test_abstention_sends_no_kb_answer_and_offers_a_person(install: Any) -> None:
    messages, slots = ask("receta de empanadas de carne al horno")
    names = responses(messages)
    assert names[0] == "utter_kb_not_sure" and "json" not in names and "utter_kb_answer" not in names
    buttons = [b for m in messages for b in m.get("buttons", [])]
    assert {
        "title": "Hablar con una persona",
        "payload": "/human_handoff",
    } in buttons or "utter_kb_offer_human" in names
    for b in buttons:
        assert b["payload"] == "/human_handoff" or b["payload"].startswith('/ask_procedure{"procedure": ')
    assert slots == {"kb_abstain_count": 1.0, "kb_answered": False}
    messages, slots = ask("receta de empanadas de carne al horno", slots={"kb_abstain_count": 1.0})
    assert "utter_kb_offer_human" in responses(messages)
    assert slots["kb_abstain_count"] == 2.0


def test_requirements_button_uses_the_kb_section_entity(install: Any) -> None:
    payload = '/ask_procedure{"procedure": "pasaporte-emision", "kb_section": "requirements"}'
    entities = [
        {"entity": "procedure", "value": "pasaporte-emision"},
        {"entity": "kb_section", "value": "requirements"},
    ]
    messages, slots = ask(payload, entities=entities)
    assert responses(messages) == [
        "utter_kb_answer",
        "utter_kb_source",
        "json",
        "utter_kb_next_steps_after_requirements",
    ]
    assert messages[0]["answer"].startswith(
        "Emisión de pasaporte (primera vez) — Requisitos:\n• Documento de identidad vigente"
    )
    assert slots["last_procedure"] == "pasaporte-emision"
    # A closest-procedure button carries no section: the summary is shown.
    messages, _ = ask(
        '/ask_procedure{"procedure": "registro-mascotas"}',
        entities=[{"entity": "procedure", "value": "registro-mascotas"}],
    )
    assert "Qué es:" in messages[0]["answer"]
    # A button without a procedure asks which one.
    messages, _ = ask("/ask_procedure")
    assert responses(messages) == ["utter_ask_what_procedure"]


class StubSearcher:
    """Canned results: the follow-up decision alone, without any model."""

    def __init__(
        self, overall: tuple[str, float] | None, within: float, threshold: float = 0.1, relief: float = 0.04
    ) -> None:
        from knowledge_base.settings import Tuning

        self.tuning = Tuning(lexical_weight=0.0, temperature=0.0, abstain_threshold=threshold, followup_relief=relief)
        self.index = type("I", (), {"by_procedure": {"pasaporte-emision": [0], "impuesto-predial": [1]}})()
        self._overall, self._within = overall, within

    def _result(self, pid: str, confidence: float, threshold: float) -> SearchResult:
        from knowledge_base.index import DocumentMeta
        from knowledge_base.passages import Passage

        passage = Passage(f"{pid}#cost", pid, "section", "cost", "Costo", "$ 10", "")
        hit = Hit(pid, DocumentMeta(pid, "", "2026-01-01"), passage, confidence, confidence, 0.0)
        abstained = confidence < threshold
        return SearchResult("q", [] if abstained else [hit], abstained, [hit], "v", confidence)

    def search(
        self, question: str, *, top_k: int = 3, within: str | None = None, threshold: float | None = None
    ) -> SearchResult:
        if within is not None:
            return self._result(
                within, self._within, threshold if threshold is not None else self.tuning.abstain_threshold
            )
        pid, confidence = self._overall or ("impuesto-predial", -1.0)
        return self._result(pid, confidence, self.tuning.abstain_threshold)


@pytest.mark.parametrize(
    ("overall", "within", "expected"),
    [
        (None, 0.07, "pasaporte-emision"),  # nothing else fits; 0.07 >= 0.1 - 0.04: a follow-up
        (None, 0.05, None),  # too weak even for a follow-up: abstain
        (("impuesto-predial", 0.12), 0.11, "pasaporte-emision"),  # the other one is not clearly better
        (("impuesto-predial", 0.20), 0.11, "impuesto-predial"),  # clearly another procedure
        (("pasaporte-emision", 0.15), 0.02, "pasaporte-emision"),  # the same procedure anyway
    ],
)
def test_follow_up_decision(overall: tuple[str, float] | None, within: float, expected: str | None) -> None:
    result = choose_result(StubSearcher(overall, within), "y cuanto cuesta?", "pasaporte-emision", margin=0.03)  # type: ignore[arg-type]
    assert (result.hits[0].procedure_id if result.hits else None) == expected
    fresh = choose_result(StubSearcher(overall, within), "y cuanto cuesta?", None, margin=0.03)  # type: ignore[arg-type]
    assert not fresh.hits or fresh.hits[0].procedure_id == (overall or ("",))[0]


def test_follow_up_through_the_action(install: Any, kb_settings: SearchSettings) -> None:
    # The fake embedder gives short questions low scores: a generous relief makes the mechanics visible.
    install(kb_settings.model_copy(update={"followup_relief": 0.2}))
    messages, _ = ask("y cuanto cuesta?", slots={"last_procedure": "pasaporte-emision"})
    assert messages[2]["custom"]["procedure_id"] == "pasaporte-emision"
    assert "$" in messages[0]["answer"]
    messages, _ = ask("y cuanto cuesta?")
    assert "json" not in responses(messages)  # without a previous procedure the words are not enough
    messages, _slots = ask("me robaron la cedula, como saco otra", slots={"last_procedure": "registro-mascotas"})
    assert messages[2]["custom"]["procedure_id"] == "documento-identidad-duplicado"


def test_an_imported_document_has_no_procedure_buttons(
    install: Any, kb_settings: SearchSettings, tmp_path: Path
) -> None:
    sheet = tmp_path / "feria.csv"
    sheet.write_text(
        "id,question,answer,title\nf1,¿Cuándo es la feria del libro de Ejemplo?,La feria del libro de Ejemplo es del 1 al 15 de octubre en la plaza central.,Feria del libro\n",
        encoding="utf-8",
    )
    import_file(sheet, kb_settings.imported_dir, load_corpus(kb_settings).documents, dry_run=False)
    build_fake(kb_settings)
    messages, _slots = ask("cuando es la feria del libro de ejemplo")
    assert responses(messages) == ["utter_kb_answer", "utter_kb_source_no_link", "json", "utter_kb_next_steps_document"]
    assert messages[2]["custom"]["procedure_id"] == "feria:f1" and messages[2]["custom"]["source_url"] == ""
    assert messages[0]["answer"].startswith("¿Cuándo es la feria del libro de Ejemplo?\nLa feria")


def test_a_failure_still_answers_the_citizen(install: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("índice ilegible")

    monkeypatch.setattr(services_module.get_services().search, "searcher", broken)
    messages, slots = ask("me robaron la cedula")
    # No procedure is remembered, and the conversation knows nothing was answered.
    assert responses(messages) == ["utter_technical_problem"] and slots == {"kb_answered": False}
