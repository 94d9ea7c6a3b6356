"""`kb validate`: every problem reported with its file and field, never just the first one."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import yaml

from knowledge_base.content import load_content
from knowledge_base.corpus import load_corpus
from knowledge_base.settings import PACKAGE_DIR, SearchSettings
from tests.kb.conftest import make_settings


def _edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(content: Path, **kwargs: object) -> set[tuple[str, str]]:
    _, problems = load_content(content, **kwargs)  # type: ignore[arg-type]
    return {(p.file, p.field) for p in problems}


def test_the_shipped_content_is_valid_and_covers_the_catalog() -> None:
    procedures, problems = load_content(PACKAGE_DIR / "content")
    assert problems == []
    catalog = yaml.safe_load((PACKAGE_DIR / "catalog.yml").read_text(encoding="utf-8"))
    assert {p.id for p in procedures} == {p["id"] for p in catalog["procedures"]}
    assert all(len(p.faqs) >= 5 for p in procedures)


def test_the_shipped_rules_and_imports_are_valid() -> None:
    corpus = load_corpus(SearchSettings())
    assert corpus.problems == []
    assert len(corpus.out_of_scope) >= 10
    assert corpus.rewriter.rewrite("q necesito x el brevete") == "que necesito por el brevete (licencia de conducir)"


def test_missing_fields_are_reported_with_file_and_field(kb_root: Path) -> None:
    content = kb_root / "content"
    _edit(
        content / "registro-mascotas.yml",
        cost=None,
        faqs=[{"question": "¿Una sola pregunta?", "answer": "Una sola respuesta, corta pero válida."}],
    )
    _edit(content / "impuesto-predial.yml", title=None)
    found = _problems(content)
    assert ("registro-mascotas.yml", "cost") in found
    assert ("registro-mascotas.yml", "faqs") in found  # fewer than 5
    assert ("impuesto-predial.yml", "title") in found


def test_duplicate_ids_and_questions_are_reported(kb_root: Path) -> None:
    content = kb_root / "content"
    data = yaml.safe_load((content / "registro-mascotas.yml").read_text(encoding="utf-8"))
    data["faqs"][1]["question"] = data["faqs"][0]["question"].upper() + "?"
    (content / "registro-mascotas.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    # A second file claiming the same id.
    copy = yaml.safe_load((content / "impuesto-predial.yml").read_text(encoding="utf-8"))
    (content / "impuesto-predial-copia.yml").write_text(yaml.safe_dump(copy, allow_unicode=True), encoding="utf-8")
    found = _problems(content)
    assert ("registro-mascotas.yml", "faqs.1.question") in found
    assert ("impuesto-predial.yml", "id") in found  # repeated in two files
    assert ("impuesto-predial-copia.yml", "id") in found  # does not match its file name


def test_broken_related_procedure_links_are_reported(kb_root: Path) -> None:
    _edit(kb_root / "content" / "registro-mascotas.yml", related_procedures=["impuesto-predial", "no-existe"])
    found = _problems(kb_root / "content")
    assert found == {("registro-mascotas.yml", "related_procedures.1")}


def test_entries_not_reviewed_for_a_year_are_stale(kb_root: Path) -> None:
    old = date.today() - timedelta(days=400)
    _edit(kb_root / "content" / "registro-mascotas.yml", last_reviewed=old.isoformat())
    _edit(kb_root / "content" / "impuesto-predial.yml", last_reviewed=(date.today() + timedelta(days=3)).isoformat())
    _, problems = load_content(kb_root / "content")
    messages = {(p.file, p.field): p.message for p in problems}
    assert "más de 365 días" in messages[("registro-mascotas.yml", "last_reviewed")]
    assert "futuro" in messages[("impuesto-predial.yml", "last_reviewed")]


def test_unknown_fields_and_broken_yaml_are_reported(kb_root: Path) -> None:
    _edit(kb_root / "content" / "registro-mascotas.yml", costo="typo of cost")
    (kb_root / "content" / "roto.yml").write_text("id: roto\ntitle: [sin cerrar\n", encoding="utf-8")
    found = _problems(kb_root / "content")
    assert ("registro-mascotas.yml", "costo") in found
    assert ("roto.yml", "(yaml)") in found


def test_rule_files_problems_name_the_file(kb_root: Path) -> None:
    (kb_root / "synonyms.yml").write_text(
        "abbreviations:\n  que: [q, 'dos palabras']\nsynonyms:\n  trabajo: [chamba]\n  empleo: [chamba]\n  vacio: []\n",
        encoding="utf-8",
    )
    (kb_root / "out_of_scope.yml").write_text(
        "- topic: corto\n- topic: El clima y el tiempo\n  keywords: [lluvia]\n  extra: 1\n", encoding="utf-8"
    )
    problems = {(p.file, p.field) for p in load_corpus(make_settings(kb_root)).problems}
    assert ("synonyms.yml", "abbreviations.que") in problems
    assert ("synonyms.yml", "synonyms.empleo") in problems  # 'chamba' already maps to trabajo
    assert ("synonyms.yml", "synonyms.vacio") in problems
    assert ("out_of_scope.yml", "0.topic") in problems
    assert ("out_of_scope.yml", "1.extra") in problems
