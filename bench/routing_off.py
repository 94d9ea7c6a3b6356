"""What routing costs a procedure question, side by side: the same code, index and NLU,
two dialogue models, both stacks running at once.

Issue 13 allows routing at most 10 ms more at the median for a procedure question, end to
end. A commit from before routing would not isolate it (the tracker store and Rasa's
action-result check changed since), so "before" is rebuilt from today's data:

- **A, routing off**: today's domain and NLU, and today's rules and stories with routing
  taken out: those that continue from ``route: answer``, ``ask`` or ``named`` are dropped,
  and ``action_route_message`` with its ``route: intent`` is removed from the others, which
  leaves each intent's own flow as it was before routing;
- **B, routing on**: the model of today's data.

Both are trained with the test config (``tests/config.fast.yml``); ``bench.rest_latency``
then alternates runs between the two stacks, so both see the same machine.

    .venv/bin/python -m bench.routing_off --conversations 12 --runs 5
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.rest_latency import compare, send
from launcher.test_assets import TEST_CONFIG, TEST_INDEX, TEST_MODELS
from launcher.train import DIALOGUE, DOMAIN, NLU, RASA, ROOT, ensure_model, training_files

ROUTED_BRANCHES = ("answer", "ask", "named")


def _route_value(step: dict[str, Any]) -> str | None:
    for slot in step.get("slot_was_set") or []:
        if isinstance(slot, dict) and "route" in slot:
            return str(slot["route"])
    return None


def without_routing(steps: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The steps of one rule or story as they would be without routing; None: drop it."""
    if any(_route_value(step) in ROUTED_BRANCHES for step in steps):
        return None
    kept: list[dict[str, Any]] = []
    skip_route = False
    for step in steps:
        if step.get("action") == "action_route_message":
            skip_route = True
            continue
        if skip_route and _route_value(step) == "intent":
            skip_route = False
            continue
        skip_route = False
        kept.append(step)
    return kept


def write_dialogue(dest: Path) -> None:
    """Today's rules and stories, with routing taken out, into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(DIALOGUE.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for section in ("rules", "stories"):
            entries = []
            for entry in data.get(section) or []:
                steps = without_routing(entry.get("steps") or [])
                if steps is not None:
                    entries.append({**entry, "steps": steps})
            if section in data:
                data[section] = entries
        (dest / path.name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def routing_off_model(models_dir: Path) -> Path:
    """Model A (trained once per content of today's data)."""
    digest = hashlib.sha256(b"routing-off\0")
    for path in training_files(TEST_CONFIG):
        digest.update(path.read_bytes())
    model = models_dir / f"routing-off-{digest.hexdigest()[:16]}.tar.gz"
    if model.exists():
        return model
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        dialogue = Path(tmp) / "dialogue"
        write_dialogue(dialogue)
        subprocess.run(
            [
                str(RASA),
                "train",
                "--config",
                str(TEST_CONFIG),
                "--domain",
                str(DOMAIN),
                "--data",
                str(dialogue),
                str(NLU),
                "--out",
                str(models_dir),
                "--fixed-model-name",
                model.name.removesuffix(".tar.gz"),
            ],
            cwd=ROOT,
            check=True,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)},
        )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from launcher.stack import APP_PY, Ports, Stack

    env = {"VENTANILLA_KB_INDEX_DIR": str(TEST_INDEX), "VENTANILLA_ENV": "test"}
    subprocess.run(
        [str(APP_PY), "-m", "knowledge_base.cli", "build", "--if-changed"],
        cwd=ROOT,
        check=True,
        env={**os.environ, **env},
    )
    model_a = routing_off_model(ROOT / "var" / "bench-models")
    model_b = ensure_model(TEST_CONFIG, TEST_MODELS, "test")
    var_a, var_b = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    try:
        with (
            Stack(model=model_a, var_dir=var_a, ports=Ports.free(), with_web=False, extra_env=env) as a,
            Stack(model=model_b, var_dir=var_b, ports=Ports.free(), with_web=False, extra_env=env) as b,
        ):
            for stack in (a, b):  # the first call loads lazy parts
                send(stack.rasa_url, "warmup", "hola")
                send(stack.rasa_url, "warmup", "que necesito para sacar el pasaporte")
            print(f"A = routing off ({model_a.name}), B = routing on ({model_b.name})")
            print(compare(a.rasa_url, b.rasa_url, args.conversations, args.runs))
    finally:
        shutil.rmtree(var_a, ignore_errors=True)
        shutil.rmtree(var_b, ignore_errors=True)


if __name__ == "__main__":
    main()
