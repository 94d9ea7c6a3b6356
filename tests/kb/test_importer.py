"""`kb import`: FAQ sheets (CSV, XLSX, JSONL) and documents (Markdown, text), checked row by row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge_base.corpus import load_corpus
from knowledge_base.document_chunks import chunk_document
from knowledge_base.importer import ImportFailed, import_file, read_entries, read_source
from knowledge_base.index import DocumentMeta
from tests.kb.conftest import make_settings

ANSWER = "Se paga en la Dirección de Rentas, de lunes a viernes de 8 a 14 horas."
KNOWN = {"impuesto-predial": DocumentMeta("Impuesto predial", "https://x.example/predial", "2026-09-01")}


def _csv(path: Path, rows: list[list[str]], sep: str = ",") -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=sep).writerows(rows)
    return path


def test_csv_with_optional_columns(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "faq.csv",
        [
            ["id", "question", "answer", "title", "procedure_id", "source_url"],
            ["p1", "¿Dónde pago el predial?", ANSWER, "", "impuesto-predial", ""],
            [
                "p2",
                "¿Hay descuento por pago anual?",
                "Sí, un 10 % si paga todo el año antes del 31 de marzo.",
                "Descuentos",
                "",
                "https://x.example/descuentos",
            ],
        ],
    )
    entries = read_entries(path)
    assert [(e.id, e.procedure_id, e.source_url) for e in entries] == [
        ("p1", "impuesto-predial", ""),
        ("p2", "", "https://x.example/descuentos"),
    ]
    assert entries[1].title == "Descuentos"


def test_semicolon_csv_and_spanish_headers(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "hoja.csv",
        [["ID", "Pregunta", "Respuesta", "Trámite"], ["a", "¿Cuándo vence la cuota?", ANSWER, "impuesto-predial"]],
        sep=";",
    )
    [entry] = read_entries(path)
    assert (entry.id, entry.question, entry.procedure_id) == ("a", "¿Cuándo vence la cuota?", "impuesto-predial")


def test_bad_rows_are_all_reported_with_file_and_line(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "malo.csv",
        [
            ["id", "question", "answer", "source_url"],
            ["1", "¿Pregunta válida número uno?", ANSWER, ""],
            ["2", "", ANSWER, ""],  # line 3: no question
            ["1", "¿Otra pregunta con id repetido?", ANSWER, ""],  # line 4: repeated id
            ["3", "¿pregunta válida número uno", ANSWER, ""],  # line 5: repeated question
            ["4", "¿Respuesta corta?", "Sí.", "ftp://x"],  # line 6: short answer, bad url
        ],
    )
    with pytest.raises(ImportFailed) as excinfo:
        read_entries(path)
    found = {(p.line, p.field) for p in excinfo.value.problems}
    assert found == {(3, "question"), (4, "id"), (5, "question"), (6, "answer"), (6, "source_url")}
    assert "malo.csv:4: id:" in str(excinfo.value)


def test_missing_required_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path / "cols.csv", [["id", "pregunta"], ["1", "¿Algo?"]])
    with pytest.raises(ImportFailed, match=r"cols.csv:1: \(encabezado\): faltan las columnas: answer"):
        read_entries(path)


def test_xlsx(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "question", "answer", "procedure_id"])
    sheet.append(
        [
            "x1",
            "¿Se puede pagar con tarjeta?",
            "Sí, con tarjeta de débito o crédito en la caja municipal.",
            "impuesto-predial",
        ]
    )
    sheet.append([None, None, None, None])  # blank rows are skipped
    sheet.append(
        [
            7,
            "¿Hay plan de pagos para deudas viejas?",
            "Sí, hasta 12 cuotas sin interés para deudas de más de un año.",
            None,
        ]
    )
    sheet.append(["x3", "¿Pregunta sin respuesta?", None, None])
    workbook.save(tmp_path / "hoja.xlsx")
    with pytest.raises(ImportFailed) as excinfo:
        read_entries(tmp_path / "hoja.xlsx")
    assert [(p.line, p.field) for p in excinfo.value.problems] == [(5, "answer")]
    sheet.delete_rows(5)
    workbook.save(tmp_path / "hoja.xlsx")
    entries = read_entries(tmp_path / "hoja.xlsx")
    assert [e.id for e in entries] == ["x1", "7"]


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "j1",
                "question": "¿Dónde queda Rentas?",
                "answer": "En el Palacio Municipal, planta baja, ventanilla 3.",
            }
        )
        + "\n"
        + "\n"
        + "no es json\n"
        + json.dumps({"id": "j2", "question": "¿Atienden los sábados?"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as excinfo:
        read_entries(path)
    assert {(p.line, p.field) for p in excinfo.value.problems} == {(3, "(línea)"), (4, "answer")}


def test_markdown_is_chunked_at_headings_and_paragraphs(tmp_path: Path) -> None:
    long_paragraph = " ".join(f"Oración número {i} del reglamento de ferias." for i in range(60))
    path = tmp_path / "ferias.md"
    path.write_text(
        "---\ntitle: Reglamento de ferias\nsource_url: https://x.example/ferias\n---\n"
        "# Reglamento de ferias\n\nIntroducción breve al reglamento de ferias barriales.\n\n"
        f"## Horarios\n\nLas ferias funcionan de 8 a 14.\nLos domingos no hay ferias.\n\n## Puestos\n\n{long_paragraph}\n",
        encoding="utf-8",
    )
    entries = read_entries(path)
    assert entries[0].title == "Reglamento de ferias"
    assert entries[0].source_url == "https://x.example/ferias"
    horarios = [e for e in entries if e.question == "Horarios"]
    assert len(horarios) == 1 and "Los domingos no hay ferias." in horarios[0].answer
    puestos = [e for e in entries if e.question == "Puestos"]
    assert len(puestos) >= 3  # ~480 words cut into passages of at most 120
    assert all(len(e.answer.split()) <= 120 for e in puestos)
    assert [e.id for e in puestos][:2] == ["puestos-1", "puestos-2"]


def test_plain_text_document(tmp_path: Path) -> None:
    path = tmp_path / "horarios_de_verano.txt"
    path.write_text(
        "En verano la municipalidad atiende de 7 a 13.\n\nLas oficinas cierran el 1 de enero.\n", encoding="utf-8"
    )
    entries = read_entries(path)
    assert len(entries) == 1 and entries[0].title == "Horarios de verano"
    assert chunk_document("uno\n\ndos") == [("", "uno\ndos")]


def test_unsupported_format(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(ImportFailed, match="formato no soportado"):
        read_entries(tmp_path / "x.pdf")


def test_read_source_groups_by_procedure_id(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "otra_agencia.csv",
        [
            ["id", "question", "answer", "title", "procedure_id"],
            [
                "1",
                "¿Cómo renuevo la matrícula?",
                "Con el formulario F-2 en cualquier sede, antes del vencimiento.",
                "Matrícula",
                "matricula",
            ],
            [
                "2",
                "¿Cuánto cuesta la matrícula?",
                "La renovación anual cuesta $ 3.000 y se paga en línea.",
                "Matrícula",
                "matricula",
            ],
            ["3", "¿Dónde están las sedes?", "Hay sedes en el centro y en el barrio norte, de 8 a 16.", "", ""],
        ],
    )
    passages, documents = read_source(path)
    assert set(documents) == {"matricula", "otra-agencia:3"}
    assert documents["matricula"].title == "Matrícula" and documents["matricula"].kind == "imported"
    assert len([p for p in passages if p.procedure_id == "matricula"]) == 4  # question+answer and question alone


def test_dry_run_shows_changes_and_writes_nothing(tmp_path: Path) -> None:
    imported = tmp_path / "imported"
    first = _csv(
        tmp_path / "rentas.csv",
        [
            ["id", "question", "answer", "procedure_id"],
            ["a", "¿Dónde pago el predial?", ANSWER, "impuesto-predial"],
            ["b", "¿Hay descuento por pago anual?", "Sí, un 10 % si paga el año completo antes de marzo.", ""],
        ],
    )
    report = import_file(first, imported, KNOWN, dry_run=True)
    assert [e.id for e in report.added] == ["a", "b"] and not imported.exists()
    import_file(first, imported, KNOWN, dry_run=False)
    assert len((imported / "rentas.jsonl").read_text(encoding="utf-8").splitlines()) == 2

    second = _csv(
        tmp_path / "rentas.csv",
        [
            ["id", "question", "answer", "procedure_id"],
            [
                "a",
                "¿Dónde pago el predial?",
                "En Rentas o en línea, con tarjeta o en efectivo en la caja.",
                "impuesto-predial",
            ],
            [
                "c",
                "¿Puedo pagar en cuotas?",
                "Sí, en 6 cuotas bimestrales sin interés desde marzo.",
                "impuesto-predial",
            ],
        ],
    )
    before = (imported / "rentas.jsonl").read_bytes()
    report = import_file(second, imported, KNOWN, dry_run=True)
    assert ([e.id for e in report.added], [e.id for e in report.changed], [e.id for e in report.removed]) == (
        ["c"],
        ["a"],
        ["b"],
    )
    assert (imported / "rentas.jsonl").read_bytes() == before
    assert report.lines()[-1] == "Resumen: 1 nueva(s), 1 cambiada(s), 1 quitada(s), 0 sin cambios."


def test_import_refuses_links_to_unknown_procedures(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "x.csv",
        [["id", "question", "answer", "procedure_id"], ["1", "¿Pregunta de prueba?", ANSWER, "no-existe"]],
    )
    with pytest.raises(ImportFailed, match=r"x\.csv:2: procedure_id: enlace roto"):
        import_file(path, tmp_path / "imported", KNOWN, dry_run=False)
    assert not (tmp_path / "imported").exists()


def test_imported_content_joins_the_build(kb_root: Path) -> None:
    settings = make_settings(kb_root)
    before = load_corpus(settings)
    path = _csv(
        kb_root / "rentas.csv",
        [
            ["id", "question", "answer", "procedure_id", "title"],
            [
                "a",
                "¿El predial se paga también por cocheras?",
                "Sí, cada cochera con partida propia paga su impuesto.",
                "impuesto-predial",
                "",
            ],
            [
                "b",
                "¿Qué es la tasa de alumbrado?",
                "Es la tasa que financia el alumbrado público y se cobra con el predial.",
                "",
                "Tasa de alumbrado",
            ],
        ],
    )
    import_file(path, settings.imported_dir, before.documents, dry_run=False)
    after = load_corpus(settings)
    assert after.problems == []
    assert len(after.passages) == len(before.passages) + 4
    joined = [p for p in after.passages if p.passage_id == "impuesto-predial#rentas:a"]
    assert joined and joined[0].procedure_id == "impuesto-predial"
    assert after.documents["rentas:b"].title == "Tasa de alumbrado"


def test_one_import_reports_bad_rows_and_broken_links_together(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "mixto.csv",
        [
            ["id", "question", "answer", "procedure_id"],
            ["1", "¿Pregunta con enlace roto?", ANSWER, "predial"],
            ["2", "¿Pregunta sin respuesta?", "", "impuesto-predial"],
            ["3", "¿Pregunta correcta del predial?", ANSWER, "impuesto-predial"],
        ],
    )
    with pytest.raises(ImportFailed) as excinfo:
        import_file(path, tmp_path / "imported", KNOWN, dry_run=True)
    assert [(p.file, p.line, p.field) for p in excinfo.value.problems] == [
        ("mixto.csv", 2, "procedure_id"),
        ("mixto.csv", 3, "answer"),
    ]
