"""What recording analytics events adds to a turn: two whole stacks, events on and off, side by side.

Starts two stacks with the same model and index on free ports, one with
``VENTANILLA_EVENT_BROKER=sql`` (the embedded default: Rasa writes every event to the SQL
broker table, the backend drains it into the analytics tables every second) and one with
``none`` (no events), then sends the same scripted conversations of ``bench.rest_latency``
to both, alternating the order every round (ABBA...) so that both see the same machine
load. Prints one table per stack (each run's median / p95 per message type, the load
average after each run, the median of the runs), the median of the per-round differences
of the turn median, and how many analytics events each stack recorded (events off must be
zero, events on must not be).

    .venv/bin/python -m bench.analytics_side_by_side --rounds 6 --conversations 20
    .venv/bin/python -m bench.analytics_side_by_side --rounds 0 --paired 160

``--paired N`` also sends N conversations turn by turn to both stacks (the same message to
one, then the other, the order swapped every conversation) and prints the median of the
paired per-turn differences: the finest way to cancel a shared machine's load swings.

Two load-robust measures (wall-clock differences drown in a shared machine's noise):

- ``--cpu N``: N alternating runs per stack measuring the CPU time (utime + stime from
  /proc/<pid>/stat) each process (Rasa, backend with its drain, action server) consumed per
  turn, the drain's work after the run included (it waits until the broker table is empty).
- always: what Rasa does synchronously per turn for the events, timed inside the real server
  (``VENTANILLA_BENCH_BROKER_TIMINGS``, connectors/broker_timing.py): the tracker store's
  ``stream_events`` (re-read the stored tracker, diff it, ``publish`` each new event) per
  saved tracker, wall and thread CPU time, and the ``publish`` calls alone.

    .venv/bin/python -m bench.analytics_side_by_side --rounds 0 --cpu 6 --conversations 20

The quiet-machine wall-clock check (the lead's, bench/RESULTS.md):

    .venv/bin/python -m bench.analytics_side_by_side --rounds 8 --conversations 20 --paired 120 --cpu 4

The test model (tests/config.fast.yml, var/test-models) and the test index
(var/test-kb-index) are used: what is compared is the broker, not the NLU.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.load import ProcessMeter
from bench.rest_latency import conversation, report, run, send, summary

ROOT = Path(__file__).resolve().parent.parent
Rows = dict[str, tuple[int, float, float]]
TURNS = len(conversation(0))
PROCESSES = ("rasa", "backend", "actions")


def _start(stack: object, errors: list[BaseException]) -> None:
    try:
        stack.start(timeout=900)  # type: ignore[attr-defined]
    except BaseException as exc:  # noqa: BLE001 - reported by the caller
        errors.append(exc)


def _analytics_events(var_dir: Path) -> int:
    path = var_dir / "cases.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM analytics_events").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _broker_backlog(var_dir: Path) -> int:
    path = var_dir / "rasa_events.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=30) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def cpu_run(stack: object, conversations: int, settle: float = 1.5) -> dict[str, float]:
    """CPU milliseconds per turn of each process for one run, the drain's catch-up included."""
    pids = {p.name: p.popen.pid for p in stack.processes if p.name in PROCESSES}  # type: ignore[attr-defined]
    meter = ProcessMeter(pids)
    meter.start()
    run(stack.rasa_url, conversations)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while _broker_backlog(stack.var_dir) and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.2)
    time.sleep(settle)  # both stacks idle alike: the drain's last poll, timers
    turns = conversations * TURNS
    return {name: seconds * 1000 / turns for name, seconds in meter.cpu_seconds().items()}


def cpu_report(runs: dict[str, list[dict[str, float]]]) -> str:
    """Median CPU ms per turn per process and stack, and on - off."""
    lines = [
        "| CPU ms por turno (mediana de las corridas) | " + " | ".join(PROCESSES) + " | total |",
        "|---|---|---|---|---|",
    ]
    medians = {}
    for name, label in (("on", "eventos sí (sql)"), ("off", "eventos no (none)")):
        per = {p: statistics.median(r[p] for r in runs[name]) for p in PROCESSES}
        per["total"] = statistics.median(sum(r[p] for p in PROCESSES) for r in runs[name])
        medians[name] = per
        lines.append(f"| {label} | " + " | ".join(f"{per[p]:.2f}" for p in (*PROCESSES, "total")) + " |")
    diff = {p: medians["on"][p] - medians["off"][p] for p in (*PROCESSES, "total")}
    lines.append("| sí - no | " + " | ".join(f"{diff[p]:+.2f}" for p in (*PROCESSES, "total")) + " |")
    totals = {name: ", ".join(f"{sum(r[p] for p in PROCESSES):.1f}" for r in runs[name]) for name in runs}
    lines.append(f"totales por corrida: sí {totals['on']}; no {totals['off']}")
    return "\n".join(lines)


def timing_report(path: Path, turns: int, label: str) -> str:
    """Rasa's synchronous work for the events, from the lines connectors/broker_timing.py wrote."""
    rows = [tuple(float(x) for x in line.split()) for line in path.read_text().splitlines() if line.strip()]
    if not rows or not turns:
        return f"{label}: sin mediciones"
    wall = sorted(r[0] for r in rows)
    cpu = sorted(r[1] for r in rows)
    publish_ms = sum(r[3] for r in rows)
    return (
        f"{label}: {len(rows)} guardados del tracker en {turns} turnos; stream_events por guardado:"
        f" reloj mediana {statistics.median(wall):.2f} ms (p95 {wall[int(len(wall) * 0.95)]:.2f}),"
        f" CPU mediana {statistics.median(cpu):.2f} ms (p95 {cpu[int(len(cpu) * 0.95)]:.2f});"
        f" por turno: reloj {sum(wall) / turns:.2f} ms, CPU {sum(cpu) / turns:.2f} ms,"
        f" de ello publish {publish_ms / turns:.3f} ms ({sum(r[2] for r in rows) / turns:.1f} eventos)"
    )


def paired(url_on: str, url_off: str, conversations: int) -> list[tuple[float, float]]:
    """(on, off) latency of the same turn sent to both stacks, one right after the other."""
    pairs = []
    for i in range(conversations):
        senders = {url: f"bench-{uuid.uuid4().hex[:10]}" for url in (url_on, url_off)}
        order = (url_on, url_off) if i % 2 == 0 else (url_off, url_on)
        for _kind, text in conversation(i):
            ms = {url: send(url, senders[url], text) for url in order}
            pairs.append((ms[url_on], ms[url_off]))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="runs per stack, alternating")
    parser.add_argument("--conversations", type=int, default=20, help="conversations (5 turns) per run")
    parser.add_argument("--paired", type=int, default=0, help="conversations sent turn by turn to both stacks")
    parser.add_argument("--cpu", type=int, default=0, help="runs per stack measuring CPU time per turn, alternating")
    args = parser.parse_args()

    from launcher.stack import Ports, Stack
    from launcher.train import ensure_model

    model = ensure_model(ROOT / "tests" / "config.fast.yml", ROOT / "var" / "test-models", "test")
    common = {
        "VENTANILLA_KB_INDEX_DIR": str(ROOT / "var" / "test-kb-index"),
        "VENTANILLA_ENV": "test",
        "VENTANILLA_ACTION_TIMEOUT_SECONDS": "30",
    }
    with tempfile.TemporaryDirectory() as tmp_on, tempfile.TemporaryDirectory() as tmp_off:
        timings = {"on": Path(tmp_on) / "broker_timings.txt", "off": Path(tmp_off) / "broker_timings.txt"}
        stacks = {
            "on": Stack(model=model, var_dir=Path(tmp_on), ports=Ports.free(), with_web=False,
                        extra_env={**common, "VENTANILLA_EVENT_BROKER": "sql",
                                   "VENTANILLA_BENCH_BROKER_TIMINGS": str(timings["on"])}),
            "off": Stack(model=model, var_dir=Path(tmp_off), ports=Ports.free(), with_web=False,
                         extra_env={**common, "VENTANILLA_EVENT_BROKER": "none",
                                    "VENTANILLA_BENCH_BROKER_TIMINGS": str(timings["off"])}),
        }  # fmt: skip
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_start, args=(s, errors)) for s in stacks.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        try:
            if errors:
                raise errors[0]
            for s in stacks.values():
                for _ in range(3):
                    send(s.rasa_url, "warmup", "hola")  # first calls load lazy parts
            for path in timings.values():
                path.unlink(missing_ok=True)  # the warm-up's saves are not measured
            cpu_runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
            for i in range(args.cpu):
                for name in ("on", "off") if i % 2 == 0 else ("off", "on"):
                    cpu_runs[name].append(cpu_run(stacks[name], args.conversations))
            results: dict[str, list[tuple[Rows, float]]] = {"on": [], "off": []}
            for i in range(args.rounds):
                for name in ("on", "off") if i % 2 == 0 else ("off", "on"):
                    rows = summary(run(stacks[name].rasa_url, args.conversations))
                    results[name].append((rows, os.getloadavg()[0]))
            pairs = paired(stacks["on"].rasa_url, stacks["off"].rasa_url, args.paired)
            on_events = _analytics_events(stacks["on"].var_dir)
            off_events = _analytics_events(stacks["off"].var_dir)
            turns = (args.cpu + args.rounds) * args.conversations * TURNS + args.paired * TURNS
            timing_lines = [timing_report(timings[n], turns, n) for n in ("on", "off") if timings[n].exists()]
        finally:
            for s in stacks.values():
                s.stop()
    print(f"carga media (1 min) al terminar: {os.getloadavg()[0]:.1f}")
    print("\n".join(timing_lines))
    if args.cpu:
        print(cpu_report(cpu_runs))
    if pairs:
        on, off = [p[0] for p in pairs], [p[1] for p in pairs]
        diffs_paired = sorted(a - b for a, b in pairs)
        q1, q3 = diffs_paired[len(pairs) // 4], diffs_paired[3 * len(pairs) // 4]
        print(
            f"pareado, {len(pairs)} turnos: mediana sí {statistics.median(on):.1f} ms, no {statistics.median(off):.1f} ms;"
            f" mediana de las diferencias por turno {statistics.median(diffs_paired):+.1f} ms (cuartiles {q1:+.1f} / {q3:+.1f})"
        )
    if not args.rounds:
        print(f"eventos de estadística registrados: sí {on_events}, no {off_events}")
        return
    for name, label in (("on", "eventos sí (sql)"), ("off", "eventos no (none)")):
        print(f"{label}\n{report(results[name])}\n")
    diffs = [
        on[0]["**todos**"][1] - off[0]["**todos**"][1] for on, off in zip(results["on"], results["off"], strict=True)
    ]
    print("diferencia de la mediana por turno, ronda a ronda (sí - no, ms):", ", ".join(f"{d:+.1f}" for d in diffs))
    print(f"mediana de las diferencias: {statistics.median(diffs):+.1f} ms")
    on_median = statistics.median(r[0]["**todos**"][1] for r in results["on"])
    off_median = statistics.median(r[0]["**todos**"][1] for r in results["off"])
    print(f"mediana de las medianas: sí {on_median:.1f} ms, no {off_median:.1f} ms ({on_median - off_median:+.1f} ms)")
    print(f"eventos de estadística registrados: sí {on_events}, no {off_events}")


if __name__ == "__main__":
    main()
