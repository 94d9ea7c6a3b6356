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
