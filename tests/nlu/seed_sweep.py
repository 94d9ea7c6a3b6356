"""Retrain the NLU with several DIET seeds and score each model on the held-out split.

One model says little: retraining moves macro-F1 by about ±0.01, so the targets are
judged on the minimum and median over seeds. Run with the application environment::

    .venv/bin/python -m tests.nlu.seed_sweep --config tests/config.fast.yml --seeds 42 7 1234

Each seed trains ``rasa train nlu`` with a copy of the config whose DIET
``random_seed`` is replaced, then runs the same evaluation as the tests
(``rasa_nlu_eval.py``: ``rasa test nlu`` on the split and on its typo copy).
Scratch files go to ``var/nlu-sweep/TAG/`` (with a snapshot of ``data/nlu``); the table
is printed and saved there as ``sweep.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.nlu.test_nlu_eval import SEED, TEST_SPLIT, macro_f1, write_typo_copy

ROOT = Path(__file__).resolve().parents[2]
RASA_DIR = ROOT / ".venv-rasa" / "bin"
OUT = ROOT / "var" / "nlu-sweep"


def _config_with_seed(config: Path, seed: int, target: Path) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in data["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["random_seed"] = seed
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _rasa_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _run(command: list[str]) -> None:
    done = subprocess.run(command, cwd=ROOT, env=_rasa_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def run_seed(config: Path, seed: int, typos: Path, nlu: Path, out: Path) -> dict[str, float]:
    """Trains one NLU model and returns its clean and typo macro-F1 and training time."""
    work = out / f"seed-{seed}"
    work.mkdir(parents=True, exist_ok=True)
    seeded = work / "config.yml"
    _config_with_seed(config, seed, seeded)
    started = time.monotonic()
    _run(
        [str(RASA_DIR / "rasa"), "train", "nlu", "--config", str(seeded), "--nlu", str(nlu),
         "--domain", str(ROOT / "bot" / "domain"), "--out", str(work), "--fixed-model-name", "nlu"]
    )  # fmt: skip
    seconds = time.monotonic() - started
    _run(
        [str(RASA_DIR / "python"), str(ROOT / "tests" / "nlu" / "rasa_nlu_eval.py"), str(work / "nlu.tar.gz"), str(work),
         str(TEST_SPLIT), str(typos)]
    )  # fmt: skip
    predictions = json.loads((work / "predictions.json").read_text(encoding="utf-8"))
    return {
        "seed": seed,
        "clean": macro_f1(predictions["test_nlu"])[0],
        "typos": macro_f1(predictions[typos.stem])[0],
        "train_seconds": round(seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "tests" / "config.fast.yml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 1234])
    parser.add_argument("--tag", default="default", help="sub-folder of var/nlu-sweep/ for this sweep")
    args = parser.parse_args(argv)
    out = OUT / args.tag
    out.mkdir(parents=True, exist_ok=True)
    typos = out / "test_nlu_typos.yml"
    write_typo_copy(TEST_SPLIT, typos, SEED)
    # A snapshot of the training data, so that editing data/nlu during a sweep changes nothing.
    nlu = out / "data-nlu"
    shutil.rmtree(nlu, ignore_errors=True)
    shutil.copytree(ROOT / "data" / "nlu", nlu)
    rows = []
    for seed in args.seeds:
        rows.append(run_seed(args.config.resolve(), seed, typos, nlu, out))
        print(json.dumps(rows[-1]), flush=True)
    summary = {
        key: {"min": min(r[key] for r in rows), "median": statistics.median(r[key] for r in rows)}
        for key in ("clean", "typos")
    }
    print(json.dumps(summary))
    (out / "sweep.json").write_text(
        json.dumps({"config": str(args.config), "runs": rows, "summary": summary}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
