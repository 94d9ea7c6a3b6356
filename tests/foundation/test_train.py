"""The model is retrained only when what Rasa trains on changed."""

from __future__ import annotations

from pathlib import Path

from launcher import train


def test_fingerprint_is_stable_and_tracks_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("language: es\n")
    first = train.fingerprint(config)
    assert train.fingerprint(config) == first
    config.write_text("language: es\npipeline: []\n")
    assert train.fingerprint(config) != first


def test_fingerprint_covers_domain_dialogue_and_nlu() -> None:
    files = {p.relative_to(train.ROOT).parts[0:2] for p in train.training_files(train.ROOT / "config.yml")}
    assert ("bot", "domain") in files and ("bot", "dialogue") in files and ("data", "nlu") in files


def test_existing_model_is_reused_without_training(tmp_path: Path, monkeypatch) -> None:
    config = train.ROOT / "config.yml"
    model = tmp_path / f"x-{train.fingerprint(config)}.tar.gz"
    model.write_bytes(b"model")
    monkeypatch.setattr(train.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    assert train.ensure_model(config, tmp_path, "x") == model
