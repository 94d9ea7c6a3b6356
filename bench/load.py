"""Simulated citizens through the REST channel: throughput, latency per message type, CPU and memory.

Each simulated citizen talks without pause (a closed loop: the next message leaves when
the previous answer arrived), starting a new conversation for every scenario it plays.
Scenarios are drawn so that the *messages* follow the mix of issue 14: about 60 %
procedure questions (the knowledge base's development set), 15 % small talk, 15 % case
status with verification (two turns: the code, then the last 4 digits of the document),
10 % opening a case through the form (seven turns, from "quiero iniciar un trámite" to
"confirmo"). The cases whose status is asked are opened through the form before the run.

For each number of concurrent citizens (``--levels``) it runs ``--seconds`` and reports
messages per second, errors (HTTP errors, timeouts, 429 throttling counted apart), median,
p95 and p99 latency per message type, and the CPU (share of one core) and peak resident
memory of each server process, read from ``/proc`` (Linux). The level where throughput
stops growing is the saturation point; the process at ~100 % of a core is what saturates.

    .venv/bin/python -m bench.load                       # own stack (shipped model), 1 5 20 50 100
    .venv/bin/python -m bench.load --seconds-at 20=300   # the same, 5 minutes at 20 citizens
    .venv/bin/python -m bench.load --cluster 2           # production profile, 2 Rasa servers behind nginx
    .venv/bin/python -m bench.load --config tests/config.fast.yml --levels 1 5 --seconds 20
    .venv/bin/python -m bench.load --url http://127.0.0.1:5005 --pids rasa=123,actions=456

With its own stack the per-sender and global rate limits are raised (the channel edge's
limits would otherwise answer 429 to a benchmark's fast citizens; they have their own tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.load_stages import Histograms, RasaProfiler, predictions_per_message

ROOT = Path(__file__).resolve().parent.parent
CODE_RE = re.compile(r"[A-Z]{2,6}-\d{4}-\d{6}")
SMALL_TALK = ["hola", "buenas tardes", "gracias", "muchas gracias, chau", "buen día", "hola, ¿cómo anda?"]
# Messages' share of the mix and turns per scenario: a scenario is drawn with weight share / turns.
MIX = {"pregunta_kb": (60, 1), "charla": (15, 1), "estado": (15, 2), "iniciar": (10, 7)}


def form_turns(document: str) -> list[str]:
    """The open-case form answered in order (tests/conversation/test_flows_rest.py::fill_form)."""
    return [
        "quiero iniciar un trámite",
        "certificado de residencia",
        "me llamo Ana María Pérez",
        f"mi dni es {document}",
        "ana.perez@correo.com",
        "sí, acepto",
        "confirmo",
    ]


@dataclass
class Sample:
    kind: str
    millis: float
    outcome: str  # "ok", "throttled", "error"
    at: float


@dataclass
class Citizens:
    """The questions and the known cases the simulated citizens use."""

    questions: list[str]
    cases: list[tuple[str, str]] = field(default_factory=list)  # (code, last 4 digits of the document)

    def scenario(self, rng: random.Random) -> list[tuple[str, str]]:
        kinds = list(MIX)
        kind = rng.choices(kinds, weights=[share / turns for share, turns in MIX.values()])[0]
        if kind == "pregunta_kb":
            return [(kind, rng.choice(self.questions))]
        if kind == "charla":
            return [(kind, rng.choice(SMALL_TALK))]
        if kind == "estado" and self.cases:
            code, last4 = rng.choice(self.cases)
            return [(kind, f"cómo va mi trámite {code}"), (kind, last4)]
        document = str(rng.randrange(20_000_000, 45_000_000))
        return [("iniciar", text) for text in form_turns(document)]


async def say(client: httpx.AsyncClient, url: str, sender: str, text: str) -> tuple[int, list[dict[str, object]]]:
    response = await client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
    return response.status_code, (response.json() if response.status_code == 200 else [])


async def citizen(url: str, people: Citizens, seed: int, until: float, samples: list[Sample]) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < until:
            sender = f"load-{uuid.uuid4().hex[:12]}"
            for kind, text in people.scenario(rng):
                started = time.perf_counter()
                try:
                    status, _ = await say(client, url, sender, text)
                    outcome = "ok" if status == 200 else "throttled" if status == 429 else "error"
                except httpx.HTTPError:
                    outcome = "error"
                samples.append(Sample(kind, (time.perf_counter() - started) * 1000, outcome, time.monotonic()))
                if outcome != "ok" or time.monotonic() >= until:
                    break


async def open_cases(url: str, count: int) -> list[tuple[str, str]]:
    """Opens ``count`` cases through the form; the status scenario asks about them."""
    cases = []
    async with httpx.AsyncClient(timeout=120) as client:
        for i in range(count):
            document = str(30_000_000 + 1_111 * (i + 1))
            sender = f"load-seed-{uuid.uuid4().hex[:8]}"
            reply: list[dict[str, object]] = []
            for text in form_turns(document):
                _, reply = await say(client, url, sender, text)
            match = CODE_RE.search("\n".join(str(m.get("text", "")) for m in reply))
            if match:
                cases.append((match.group(0), document[-4:]))
    return cases


class ProcessMeter:
    """CPU seconds and resident memory of named processes (and their children), from /proc."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak_rss: dict[str, float] = defaultdict(float)
        self._cpu_start: dict[str, float] = {}
        self._started = 0.0

    @staticmethod
    def _family(pid: int) -> list[int]:
        family, todo = [], [pid]
        while todo:
            current = todo.pop()
            family.append(current)
            try:
                children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            except OSError:
                continue
            todo.extend(int(c) for c in children)
        return family

    def _cpu_seconds(self, pid: int) -> float:
        total = 0.0
        for member in self._family(pid):
            try:
                fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return total

    def _rss_mb(self, pid: int) -> float:
        total = 0.0
        for member in self._family(pid):
            try:
                status = Path(f"/proc/{member}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        return total

    def start(self) -> None:
        self._started = time.monotonic()
        self._cpu_start = {name: self._cpu_seconds(pid) for name, pid in self.pids.items()}
        self.peak_rss.clear()

    def sample(self) -> None:
        for name, pid in self.pids.items():
            self.peak_rss[name] = max(self.peak_rss[name], self._rss_mb(pid))

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) each process used since start(), whatever the machine's load."""
        return {name: self._cpu_seconds(pid) - self._cpu_start[name] for name, pid in self.pids.items()}

    def cpu_share(self) -> dict[str, float]:
        """Average share of one core each process used since start() (1.0 = a whole core)."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return {name: seconds / elapsed for name, seconds in self.cpu_seconds().items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class LevelResult:
    concurrency: int
    seconds: float
    samples: list[Sample]
    cpu: dict[str, float]
    peak_rss: dict[str, float]
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    load_average: float = 0.0
    stages: Histograms | None = None  # the action server's stage histograms during the level
    rasa_profile: dict[str, float] = field(default_factory=dict)  # share of Rasa's sampled time per stage

    @property
    def answered(self) -> int:
        return sum(1 for s in self.samples if s.outcome == "ok")

    @property
    def throughput(self) -> float:
        return self.answered / self.seconds

    def cpu_ms_per_message(self, name: str) -> float:
        return 1000 * self.cpu_seconds.get(name, 0.0) / max(self.answered, 1)


@dataclass
class Probes:
    """What is measured beside the processes' CPU and memory (each optional)."""

    actions_url: str = ""  # the action server, for its stage histograms
    py_spy: str = ""  # py-spy binary, to profile Rasa
    profile_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


async def run_level(
    url: str, people: Citizens, concurrency: int, seconds: float, meter: ProcessMeter, probes: Probes
) -> LevelResult:
    samples: list[Sample] = []
    warm_until = time.monotonic() + min(5.0, seconds / 4)
    until = warm_until + seconds
    tasks = [
        asyncio.create_task(citizen(url, people, 1000 * concurrency + i, until, samples)) for i in range(concurrency)
    ]
    await asyncio.sleep(max(0.0, warm_until - time.monotonic()))
    meter.start()  # the first seconds (connections, cold caches) are not measured
    load_average = os.getloadavg()[0]
    stages_before = Histograms.scrape(probes.actions_url) if probes.actions_url else None
    profiler = None
    if probes.py_spy and "rasa" in meter.pids:
        profiler = RasaProfiler(probes.py_spy, meter.pids["rasa"], probes.profile_dir / f"rasa-{concurrency}.txt")
        profiler.start(seconds)
    while time.monotonic() < until:
        meter.sample()
        await asyncio.sleep(1.0)
    cpu, cpu_seconds = meter.cpu_share(), meter.cpu_seconds()
    stages = Histograms.scrape(probes.actions_url).minus(stages_before) if stages_before else None
    await asyncio.gather(*tasks)
    measured = [s for s in samples if warm_until <= s.at <= until]
    shares = profiler.shares() if profiler else {}
    return LevelResult(
        concurrency, seconds, measured, cpu, dict(meter.peak_rss), cpu_seconds, load_average, stages, shares
    )


def report(results: list[LevelResult]) -> str:
    names = list(results[0].cpu)
    lines = [
        "| citizens | load avg | msg/s | errors | throttled | "
        + " | ".join(f"{k} p50 / p95 / p99 ms" for k in MIX)
        + " | "
        + " | ".join(f"CPU {n}" for n in names)
        + " | "
        + " | ".join(f"CPU ms/msg {n}" for n in names)
        + " | "
        + " | ".join(f"RSS {n} MB" for n in names)
        + " | RSS total MB |",
        "|---" * (5 + len(MIX) + 3 * len(names) + 1) + "|",
    ]
    for r in results:
        by_kind: dict[str, list[float]] = defaultdict(list)
        for s in r.samples:
            if s.outcome == "ok":
                by_kind[s.kind].append(s.millis)
        cells = [
            f"{statistics.median(v):.0f} / {percentile(v, 0.95):.0f} / {percentile(v, 0.99):.0f}" if v else "-"
            for v in (by_kind.get(k, []) for k in MIX)
        ]
        errors = sum(1 for s in r.samples if s.outcome == "error")
        throttled = sum(1 for s in r.samples if s.outcome == "throttled")
        lines.append(
            f"| {r.concurrency} | {r.load_average:.1f} | {r.throughput:.1f} | {errors} | {throttled} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(f"{r.cpu[n]:.0%}" for n in names)
            + " | "
            + " | ".join(f"{r.cpu_ms_per_message(n):.0f}" for n in names)
            + " | "
            + " | ".join(f"{r.peak_rss.get(n, 0):.0f}" for n in names)
            + f" | {sum(r.peak_rss.values()):.0f} |"
        )
    best = max(results, key=lambda r: r.throughput)
    lines.append(
        f"\nSaturation: throughput peaks at {best.throughput:.1f} msg/s with {best.concurrency} citizens; "
        f"busiest process there: {max(best.cpu, key=best.cpu.__getitem__)} ({max(best.cpu.values()):.0%} of a core)."
    )
    lines.extend(stage_report(r) for r in results if r.stages or r.rasa_profile)
    return "\n".join(lines)


def stage_report(r: LevelResult) -> str:
    """One level's per-stage breakdown: the action server's histograms and Rasa's profile."""
    lines = [f"\nStages with {r.concurrency} citizens ({r.answered} messages answered):"]
    if r.stages:
        lines += ["", "| action server stage | calls / msg | mean ms | ms / msg |", "|---|---|---|---|"]
        for stage, total, calls in r.stages.rows():
            lines.append(
                f"| {stage} | {calls / max(r.answered, 1):.2f} | {1000 * total / calls:.1f} | "
                f"{1000 * total / max(r.answered, 1):.1f} |"
            )
    if r.rasa_profile:
        rasa_ms = r.cpu_ms_per_message("rasa")
        lines += ["", "| Rasa stage (py-spy samples) | share | ≈ CPU ms / msg |", "|---|---|---|"]
        lines += [f"| {stage} | {share:.0%} | {share * rasa_ms:.0f} |" for stage, share in r.rasa_profile.items()]
    return "\n".join(lines)


def load_questions(limit: int | None = None) -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "knowledge_base" / "eval" / "dev.jsonl").read_text().splitlines()]
    answerable = [r["question"] for r in rows if r.get("expected")]
    return answerable[:limit] if limit else answerable


async def measure(
    url: str, pids: dict[str, int], levels: list[int], seconds: dict[int, float], cases: int, probes: Probes
) -> str:
    """Each level in turn, ``seconds[level]`` measured seconds each."""
    people = Citizens(load_questions(), await open_cases(url, cases))
    meter = ProcessMeter(pids)
    results = [await run_level(url, people, level, seconds[level], meter, probes) for level in levels]
    return report(results)


@dataclass
class Target:
    """A started system: where citizens write, what to measure, and its tracker store (SQLite, if any)."""

    url: str
    pids: dict[str, int]
    actions_url: str
    tracker_db: Path | None = None


def _prepare(config: Path, index_dir: Path) -> Path:
    """The index (built if needed) and the model of ``config`` (trained if needed)."""
    import subprocess

    from launcher.train import ensure_model

    build_env = {**os.environ, "VENTANILLA_KB_INDEX_DIR": str(index_dir)}
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "knowledge_base.cli", "build", "--if-changed"],
        cwd=ROOT,
        env=build_env,
        check=True,
    )
    shipped = config == ROOT / "config.yml"
    return ensure_model(
        config, ROOT / ("models" if shipped else "var/test-models"), "ventanilla" if shipped else "test"
    )


def _bench_env(index_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        "VENTANILLA_KB_INDEX_DIR": str(index_dir),
        "VENTANILLA_RATE_LIMIT_SENDER": "1000/10",
        "VENTANILLA_RATE_LIMIT_GLOBAL": "100000/1",
        **extra,
    }


@contextmanager
def own_stack(config: Path, index_dir: Path, extra_env: dict[str, str]) -> Iterator[Target]:
    """The whole stack (``make run``'s processes) on free ports with embedded defaults."""
    from launcher.stack import Ports, Stack

    model = _prepare(config, index_dir)
    env = _bench_env(index_dir, extra_env)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Stack(model=model, var_dir=Path(tmp), ports=Ports.free(), with_web=False, extra_env=env) as stack,
    ):
        pids = {p.name: p.popen.pid for p in stack.processes}
        yield Target(stack.rasa_url, pids, stack.action_url, Path(tmp) / "rasa_tracker.db")


@contextmanager
def own_cluster(config: Path, index_dir: Path, extra_env: dict[str, str], rasa: int, postgres: str) -> Iterator[Target]:
    """The production profile (launcher/cluster.py: PostgreSQL, Redis, nginx routing each
    conversation to one of ``rasa`` Rasa servers), one action server and one backend."""
    from backend.scratch_schema import scratch_schema
    from launcher.cluster import Cluster, ClusterPorts

    model = _prepare(config, index_dir)
    env = _bench_env(index_dir, extra_env)
    with tempfile.TemporaryDirectory() as tmp, scratch_schema(postgres, "bench") as database_url:
        cluster = Cluster(
            model=model,
            var_dir=Path(tmp),
            database_url=database_url,
            layout=ClusterPorts.free(rasa, 1, 1),
            extra_env=env,
            with_web=False,
        )
        with cluster:
            pids = {p.name: p.popen.pid for p in cluster.processes if p.name != "analytics-consumer"}
            yield Target(cluster.public_url, pids, f"http://127.0.0.1:{cluster.layout.actions[0]}")


def parse_pids(text: str) -> dict[str, int]:
    return {name: int(pid) for name, pid in (item.split("=", 1) for item in text.split(",") if item)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server; default: start one")
    parser.add_argument("--pids", default="", help="with --url: name=pid,... of the processes to measure")
    parser.add_argument("--actions-url", default="", help="with --url: the action server, for its stage histograms")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 5, 20, 50, 100])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per level")
    parser.add_argument(
        "--seconds-at", action="append", default=[], help="LEVEL=SECONDS: a longer run for one level (20=300)"
    )
    parser.add_argument("--cases", type=int, default=5, help="cases opened first, for the status scenario")
    parser.add_argument("--config", default=str(ROOT / "config.yml"), help="Rasa config whose model to use")
    parser.add_argument("--index", default=str(ROOT / "var" / "kb_index"), help="index directory of the own stack")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the started processes")
    parser.add_argument("--py-spy", default="", help="py-spy binary: profile Rasa's stages during each level")
    parser.add_argument("--profile-out", default="", help="with --py-spy: keep the raw profiles (rasa-N.txt) here")
    parser.add_argument(
        "--cluster", type=int, default=0, help="N > 0: the production profile with N Rasa servers behind nginx"
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help="with --cluster")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}")
    levels, cases = args.levels, args.cases
    seconds = {level: args.seconds for level in levels} | {
        int(level): float(value) for level, value in (item.split("=", 1) for item in args.seconds_at)
    }
    if args.url:
        probes = Probes(args.actions_url, args.py_spy)
        print(asyncio.run(measure(args.url, parse_pids(args.pids), levels, seconds, cases, probes)))
        return
    config, index = Path(args.config).resolve(), Path(args.index)
    extra_env = dict(item.split("=", 1) for item in args.env)
    started = (
        own_cluster(config, index, extra_env, args.cluster, args.postgres)
        if args.cluster
        else own_stack(config, index, extra_env)
    )
    with started as target, tempfile.TemporaryDirectory() as scratch:
        profiles = Path(args.profile_out or scratch)
        profiles.mkdir(parents=True, exist_ok=True)
        probes = Probes(target.actions_url, args.py_spy, profiles)
        print(asyncio.run(measure(target.url, target.pids, levels, seconds, cases, probes)))
        if target.tracker_db:
            messages, predicted = predictions_per_message(target.tracker_db)
            print(
                f"\nPolicy predictions: {predicted} for {messages} citizen messages "
                f"({predicted / max(messages, 1):.2f} per message; every policy runs for each)."
            )


if __name__ == "__main__":
    main()
