"""`kb rollback`, and `kb build` refusing to undo what the console published."""

from __future__ import annotations

import pytest

from knowledge_base.cli import main
from knowledge_base.index import current_version
from tests.kb.conftest import build_fake


def test_kb_rollback_serves_the_previous_version(kb, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    first = build_fake(kb).name
    second = build_fake(kb).name
    assert current_version(kb.index_dir) == second
    assert main(["rollback", "--index-dir", str(kb.index_dir)]) == 0
    assert current_version(kb.index_dir) == first
    assert main(["rollback", "--index-dir", str(kb.index_dir)]) == 2  # nothing older
    assert "No hay una versión anterior" in capsys.readouterr().err


def test_kb_build_leaves_an_index_published_from_the_database(
    seeded, kb, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    for key, value in {
        "synonyms_file": kb.synonyms_file,
        "out_of_scope_file": kb.out_of_scope_file,
        "embedder": "fake",
    }.items():
        monkeypatch.setenv(f"VENTANILLA_KB_{key.upper()}", str(value))
    served = current_version(kb.index_dir)
    assert main(["build", "--if-changed", "--index-dir", str(kb.index_dir)]) == 0
    assert main(["build", "--index-dir", str(kb.index_dir)]) == 1
    assert "lo publica la consola" in capsys.readouterr().out
    assert current_version(kb.index_dir) == served
    assert main(["build", "--from-files", "--index-dir", str(kb.index_dir)]) == 0
    assert current_version(kb.index_dir) != served


def test_content_commands_seed_build_and_export(kb, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from backend.content import cli, publishing

    monkeypatch.setenv("VENTANILLA_DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")
    for key in ("content_dir", "imported_dir", "synonyms_file", "out_of_scope_file", "index_dir"):
        monkeypatch.setenv(f"VENTANILLA_KB_{key.upper()}", str(getattr(kb, key)))
    monkeypatch.setenv("VENTANILLA_KB_EMBEDDER", "fake")
    monkeypatch.setattr(publishing, "_publisher", None)
    assert cli.main(["sync"]) == 0
    out = capsys.readouterr().out
    assert "5 trámite(s) tomados de los archivos" in out and "reutilizados" in out
    assert current_version(kb.index_dir) is not None
    assert cli.main(["sync"]) == 0 and "5 trámite(s) iguales" in capsys.readouterr().out
    assert cli.main(["export"]) == 0
    assert cli.main(["rollback"]) == 2  # only one version so far
