"""Latency of the whole stack through the REST channel, per message type.

Sends 200 messages (40 conversations x 5 turns) per run and prints the median and
p95 latency of each message type, per run (with the load average at its end) and the
median of the runs (``--runs``, 3 by default: one run says little on a shared machine). By default it starts its own stack with the
shipped model (trained if needed) on free ports; ``--url`` measures a running one.

    .venv/bin/python -m bench.rest_latency            # own stack, shipped model
    .venv/bin/python -m bench.rest_latency --url http://127.0.0.1:5005
    .venv/bin/python -m bench.rest_latency --url URL_A --compare URL_B   # side by side

``--compare`` measures two running stacks in one run, alternating A and B run by run
(same machine load for both), and prints one table per stack.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = [
    "que necesito para sacar el pasaporte",
    "cuanto cuesta la licencia de conducir",
    "donde pago el impuesto de mi casa",
    "como saco turno en el centro de salud",
    "requisitos para la asignacion por hijo",
]
OFF_TOPIC = ["como va a estar el clima mañana", "quien gano el partido ayer", "receta de ñoquis caseros"]


def conversation(i: int) -> list[tuple[str, str]]:
    """Five turns of one citizen: greeting, a question, an off-topic one, start a case, cancel."""
    return [
        ("saludo", "hola"),
        ("pregunta_kb", QUESTIONS[i % len(QUESTIONS)]),
        ("fuera_de_tema", OFF_TOPIC[i % len(OFF_TOPIC)]),
        ("iniciar_tramite", "quiero iniciar un tramite"),
        ("cancelar", "cancelar"),
    ]


def send(url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def run(url: str, conversations: int) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    for i in range(conversations):
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        for kind, text in conversation(i):
            latencies[kind].append(send(url, sender, text))
    return latencies


def summary(latencies: dict[str, list[float]]) -> dict[str, tuple[int, float, float]]:
    """Per message type and for all messages: (n, median, p95) in milliseconds."""
    every = [v for values in latencies.values() for v in values]
    rows = {kind: (len(values), statistics.median(values), p95(values)) for kind, values in latencies.items()}
    rows["**todos**"] = (len(every), statistics.median(every), p95(every))
    return rows


def report(runs: list[tuple[dict[str, tuple[int, float, float]], float]]) -> str:
    """One row per message type: each run's median / p95, then the median of the runs."""
    head = " | ".join(f"run {i} mediana / p95 (carga {load:.1f})" for i, (_, load) in enumerate(runs, 1))
    lines = [f"| tipo de mensaje | n | {head} | mediana de las runs: mediana / p95 |", "|---" * (len(runs) + 3) + "|"]
    for kind in runs[0][0]:
        cells = [f"{rows[kind][1]:.0f} / {rows[kind][2]:.0f}" for rows, _ in runs]
        medians = statistics.median(rows[kind][1] for rows, _ in runs)
        p95s = statistics.median(rows[kind][2] for rows, _ in runs)
        lines.append(f"| {kind} | {runs[0][0][kind][0]} | {' | '.join(cells)} | {medians:.0f} / {p95s:.0f} |")
    return "\n".join(lines)


def measure(url: str, conversations: int, runs: int) -> str:
    results = []
    for _ in range(runs):
        rows = summary(run(url, conversations))
        results.append((rows, os.getloadavg()[0]))
    return report(results)


def compare(url_a: str, url_b: str, conversations: int, runs: int) -> str:
    """Alternates runs between two stacks so both see the same load; one table each."""
    results: dict[str, list[tuple[dict[str, tuple[int, float, float]], float]]] = {url_a: [], url_b: []}
    for _ in range(runs):
        for url in (url_a, url_b):
            results[url].append((summary(run(url, conversations)), os.getloadavg()[0]))
    return "\n\n".join(
        f"{label}: {url}\n{report(rows)}" for label, (url, rows) in zip("AB", results.items(), strict=False)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server; default: start one")
    parser.add_argument("--compare", help="a second running Rasa server, measured alternately with --url")
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--config", default=str(ROOT / "config.yml"), help="Rasa config whose model to use")
    args = parser.parse_args()
    if args.url and args.compare:
        print(compare(args.url, args.compare, args.conversations, args.runs))
        return
    if args.url:
        print(measure(args.url, args.conversations, args.runs))
        return
    import subprocess

    from launcher.stack import APP_PY, Ports, Stack
    from launcher.train import ensure_model

    subprocess.run([str(APP_PY), "-m", "knowledge_base.cli", "build", "--if-changed"], cwd=ROOT, check=True)
    config = Path(args.config).resolve()
    models = ROOT / "models" if config == ROOT / "config.yml" else ROOT / "var" / "test-models"
    model = ensure_model(config, models, "ventanilla" if config == ROOT / "config.yml" else "test")
    with (
        tempfile.TemporaryDirectory() as tmp,
        Stack(
            model=model,
            var_dir=Path(tmp),
            ports=Ports.free(),
            with_web=False,
            extra_env={"VENTANILLA_KB_INDEX_DIR": str(ROOT / "var" / "kb_index")},
        ) as stack,
    ):
        send(stack.rasa_url, "warmup", "hola")  # first call loads lazy parts
        print(measure(stack.rasa_url, args.conversations, args.runs))


if __name__ == "__main__":
    main()
