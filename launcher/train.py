"""Train the Rasa model only when the training data or the config changed.

The model's file name carries a hash of everything Rasa trains on
(``config.yml``, ``bot/``'s domain and dialogue, ``data/nlu/``), so "is the model
up to date?" is one file lookup, without starting Rasa at all.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
DOMAIN = ROOT / "bot" / "domain"
DIALOGUE = ROOT / "bot" / "dialogue"
NLU = ROOT / "data" / "nlu"


def training_files(config: Path) -> list[Path]:
    files = [config]
    for folder in (DOMAIN, DIALOGUE, NLU):
        files.extend(sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml")))
    return files


def fingerprint(config: Path) -> str:
    digest = hashlib.sha256()
    for path in training_files(config):
        digest.update(
            path.resolve().relative_to(ROOT).as_posix().encode()
            if path.resolve().is_relative_to(ROOT)
            else path.name.encode()
        )
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_model(config: Path, models_dir: Path, name_prefix: str = "ventanilla") -> Path:
    """Returns the model for the current data, training it first if there is none."""
    models_dir.mkdir(parents=True, exist_ok=True)
    # One training at a time per folder: parallel test runs wait instead of racing.
    with open(models_dir / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_model_locked(config, models_dir, name_prefix)


def _ensure_model_locked(config: Path, models_dir: Path, name_prefix: str) -> Path:
    name = f"{name_prefix}-{fingerprint(config)}"
    model = models_dir / f"{name}.tar.gz"
    if model.exists():
        print(
            f"==> Modelo de Rasa al día: {model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}", flush=True
        )
        return model
    print(f"==> Entrenando el modelo de Rasa ({config.name}); tarda unos minutos...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [
            str(RASA),
            "train",
            "--config",
            str(config),
            "--domain",
            str(DOMAIN),
            "--data",
            str(DIALOGUE),
            str(NLU),
            "--out",
            str(models_dir),
            "--fixed-model-name",
            name,
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)},
    )
    print(f"==> Modelo entrenado en {time.monotonic() - started:.0f} s: {model.name}", flush=True)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Entrena el modelo de Rasa si cambió algo.")
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    parser.add_argument("--out", default=str(ROOT / "models"))
    parser.add_argument("--prefix", default="ventanilla")
    args = parser.parse_args(argv)
    ensure_model(Path(args.config).resolve(), Path(args.out).resolve(), args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
