"""The `kb` command line as staff use it (fake embedder, scratch knowledge base)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from knowledge_base.cli import main
from knowledge_base.evaluation import METRIC_KEYS
from knowledge_base.index import current_manifest
from tests.conftest import APP_PY, ROOT


@pytest.fixture
def kb_env(kb_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in {
        "CONTENT_DIR": kb_root / "content",
        "IMPORTED_DIR": kb_root / "imported",
        "SYNONYMS_FILE": kb_root / "synonyms.yml",
        "OUT_OF_SCOPE_FILE": kb_root / "out_of_scope.yml",
        "INDEX_DIR": kb_root / "index",
        "EMBEDDER": "fake",
    }.items():
        monkeypatch.setenv(f"VENTANILLA_KB_{key}", str(value))
    return kb_root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_reports_problems_and_exit_code(kb_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate")
    assert code == 0 and "5 trámites leídos, 0 problema(s)." in out
    path = kb_env / "content" / "registro-mascotas.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["steps"]
    data["related_procedures"] = ["no-existe"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, _ = run(capsys, "validate")
    assert code == 1
    assert "registro-mascotas.yml: steps: Field required" in out
    assert "registro-mascotas.yml: related_procedures.0: enlace roto" in out


def test_build_search_eval(kb_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "build")
    assert code == 0 and "listo" in out
    code, out, _ = run(capsys, "build", "--if-changed")
    assert code == 0 and "al día" in out

    code, out, _ = run(capsys, "search", "me robaron la cedula", "--json", "--top-k", "2")
    data = json.loads(out)
    assert data["abstained"] is False and len(data["hits"]) == 2
    assert data["hits"][0]["procedure_id"] == "documento-identidad-duplicado"
    assert data["rewritten"].endswith("(documento de identidad)")

    code, out, _ = run(capsys, "search", "receta de empanadas de carne")
    assert "se abstiene" in out

    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {"question": "me robaron la cedula", "expected": "documento-identidad-duplicado"},
                {"question": "vacuna antirrabica para mi perro", "expected": "registro-mascotas"},
                {"question": "receta de empanadas de carne", "expected": None},
            ]
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "eval", str(questions), "--json")
    metrics = json.loads(out)
    assert tuple(metrics) == METRIC_KEYS == ("n", "top1", "recall_at_3", "mrr", "abstain_on_null", "false_abstain")
    assert metrics == {
        "n": 3,
        "top1": 1.0,
        "recall_at_3": 1.0,
        "mrr": 1.0,
        "abstain_on_null": 1.0,
        "false_abstain": 0.0,
    }
    code, out, _ = run(capsys, "eval", str(questions))
    assert "abstain_on_null: 1.0" in out

    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {"question": "me robaron la cedula", "expected": "registro-mascotas"},  # deliberately wrong
                {"question": "receta de empanadas de carne", "expected": None},
            ]
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "eval", str(questions), "--json", "--misses")
    assert json.loads(out)["top1"] == 0.0  # stdout stays one JSON object
    assert "esperado=registro-mascotas" in err and "me robaron la cedula" in err and "empanadas" not in err


def test_eval_rejects_a_bad_questions_file(kb_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "build")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "hola", "expected": null}\n{"pregunta": "x"}\n', encoding="utf-8")
    code, _, err = run(capsys, "eval", str(bad))
    assert code == 2 and "bad.jsonl:2: línea inválida" in err


def test_build_from_a_source_file_alone(kb_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "guia.md"
    source.write_text(
        "# Guía de la feria del libro\n\n## Horarios\n\nLa feria abre de 10 a 20 todos los días de octubre.\n\n"
        "## Entradas\n\nLa entrada es gratuita para menores de 12 años y jubilados.\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "build", "--source", str(source))
    assert code == 2 and "--index-dir" in err
    index_dir = tmp_path / "feria-index"
    code, out, _ = run(capsys, "build", "--source", str(source), "--index-dir", str(index_dir))
    assert code == 0
    manifest = current_manifest(index_dir)
    assert manifest is not None and manifest["documents"] == 1 and manifest["passages"] == 2
    code, out, _ = run(capsys, "search", "a que hora abre la feria del libro", "--index-dir", str(index_dir), "--json")
    hit = json.loads(out)["hits"][0]
    assert hit["procedure_id"] == "guia" and hit["label"] == "Horarios"
    assert not (kb_env / "index").exists()  # the content index was not touched


def test_import_dry_run_then_import_then_build(
    kb_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sheet = tmp_path / "Rentas FAQ.csv"
    sheet.write_text(
        "id,question,answer,procedure_id\n"
        "c1,¿El predial se paga también por las cocheras?,Sí: cada cochera con partida propia paga su impuesto predial.,impuesto-predial\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "import", str(sheet), "--dry-run")
    assert code == 0 and "simulación" in out and "+ agregar  c1:" in out
    assert not (kb_env / "imported").exists()
    code, out, _ = run(capsys, "import", str(sheet))
    assert code == 0 and "kb build" in out
    assert (kb_env / "imported" / "rentas-faq.jsonl").exists()
    code, out, _ = run(capsys, "import", str(sheet), "--dry-run")
    assert "0 nueva(s), 0 cambiada(s), 0 quitada(s), 1 sin cambios." in out
    run(capsys, "build")
    code, out, _ = run(capsys, "search", "se paga predial por la cochera", "--json")
    assert json.loads(out)["hits"][0]["passage_id"].startswith("impuesto-predial#rentas-faq:c1")
    code, out, _ = run(capsys, "stats")
    assert "Pasajes indexables" in out and "(importados: 2)" in out


def test_import_reports_every_bad_row(kb_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sheet = tmp_path / "malo.csv"
    sheet.write_text(
        "id,question,answer\n1,,Una respuesta suficientemente larga.\n2,¿Pregunta sin respuesta?,\n", encoding="utf-8"
    )
    code, _, err = run(capsys, "import", str(sheet))
    assert code == 2
    assert "malo.csv:2: question: falta o está vacío" in err
    assert "malo.csv:3: answer: falta o está vacío" in err
    assert not (kb_env / "imported").exists()


def test_stats_shows_coverage_and_stale_entries(kb_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = kb_env / "content" / "registro-mascotas.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["last_reviewed"] = "2020-01-01"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, _ = run(capsys, "stats")
    assert code == 0
    assert "Cobertura del catálogo: 5/42" in out and "falta: pasaporte-renovacion" in out
    assert "registro-mascotas: revisado 2020-01-01" in out


def test_the_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(APP_PY.parent / "kb"), "validate"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "42 trámites leídos, 0 problema(s)." in result.stdout
