"""The load generator (bench/load.py) draws the mix issue 14 asks for and measures real processes."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter

from bench.load import MIX, Citizens, ProcessMeter, percentile


def test_messages_follow_the_mix_of_the_issue() -> None:
    people = Citizens(questions=["¿qué necesito para el pasaporte?"], cases=[("EXP-2026-000001", "1234")])
    rng = random.Random(7)
    kinds: Counter[str] = Counter()
    for _ in range(20_000):
        kinds.update(kind for kind, _ in people.scenario(rng))
    total = sum(kinds.values())
    for kind, (share, _turns) in MIX.items():
        assert abs(kinds[kind] / total * 100 - share) < 1.5, (kind, kinds[kind] / total)


def test_a_status_scenario_asks_for_a_known_case_then_verifies() -> None:
    people = Citizens(questions=["x"], cases=[("EXP-2026-000042", "9876")])
    rng = random.Random(1)
    status = next(s for s in (people.scenario(rng) for _ in range(200)) if s[0][0] == "estado")
    assert [text for _, text in status] == ["cómo va mi trámite EXP-2026-000042", "9876"]


def test_the_process_meter_sees_a_busy_child_and_its_memory() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "x = bytearray(80 * 2**20)\nwhile True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        meter = ProcessMeter({"busy": busy.pid, "idle": idle.pid})
        meter.start()
        for _ in range(4):
            time.sleep(0.25)
            meter.sample()
        cpu = meter.cpu_share()
    finally:
        for child in (busy, idle):
            child.kill()
            child.wait()
    # One spinning process, one sleeping one (the spinning one may share a busy machine).
    assert cpu["busy"] > 0.05 and cpu["idle"] < cpu["busy"] / 5
    assert meter.peak_rss["busy"] >= 80


def test_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
