"""Does a wrong verification take as long as an unknown case code?

The issue asks that a wrong verification never reveal whether a case exists: the
same message (tested in tests/) and the same timing order as a non-existent code
(measured here, not asserted). For each store (SQLite, PostgreSQL when reachable)
and each access path (SqlCaseRepository directly, and HttpCaseRepository through
the backend's internal API served by uvicorn), it times interleaved lookups of:

* ``wrong``   an existing code with a wrong verification (answer: None)
* ``unknown`` a code that does not exist (answer: None)
* ``right``   an existing code with the right verification (for reference)

and prints the median and p95 per run, for several runs.

    .venv/bin/python -m bench.case_verification                  # 5 runs x 400 lookups per kind
    .venv/bin/python -m bench.case_verification --runs 3 --lookups 200 --no-postgres
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from backend.api import create_app
from backend.db import create_schema, make_engine
from backend.http_repository import HttpCaseRepository
from backend.repository import CaseRepository, NewCase, SqlCaseRepository, submission_key
from backend.scratch_schema import scratch_schema
from backend.settings import BackendSettings
from launcher.stack import free_port

HASH_KEY = "bench-hash-key-0123456789abcdef0123456789"
SERVICE_TOKEN = "bench-service-token-0123456789abcdef"  # noqa: S105 - a throwaway bench store
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
KINDS = ("wrong", "unknown", "right")


def seed(repo: CaseRepository, count: int) -> list[tuple[str, str]]:
    """Opens ``count`` cases; returns (code, document) pairs."""
    cases = []
    for i in range(count):
        document = f"{30000000 + i}"
        code = repo.open_case(
            NewCase(
                procedure_id="certificado-residencia",
                full_name="Persona de Prueba",
                document_number=document,
                contact="prueba@correo.com",
                channel="telegram",
                sender_id=f"bench-{i}",
                idempotency_key=submission_key("bench", str(i), uuid.uuid4().hex),
            )
        )
        cases.append((code, document))
    return cases


def measure(repo: CaseRepository, cases: list[tuple[str, str]], lookups: int) -> dict[str, list[float]]:
    """Interleaved, shuffled lookups so that drift affects every kind alike."""
    plan = [kind for kind in KINDS for _ in range(lookups)]
    random.shuffle(plan)
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    year = int(cases[0][0].split("-")[1])
    for kind in plan:
        code, document = random.choice(cases)
        if kind == "wrong":
            verification = "0000" if not document.endswith("0000") else "1111"
        elif kind == "unknown":
            code, verification = f"EXP-{year}-{random.randint(900000, 999999):06d}", document[-4:]
        else:
            verification = document[-4:]
        started = time.perf_counter()
        view = repo.status_for_citizen(code, verification)
        timings[kind].append(time.perf_counter() - started)
        if (view is not None) != (kind == "right"):
            raise RuntimeError(f"unexpected answer for a {kind} verification")
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


@contextmanager
def served_backend(database_url: str) -> Iterator[str]:
    settings = BackendSettings(
        env="test",
        database_url=database_url,
        case_hash_key=HASH_KEY,
        case_service_token=SERVICE_TOKEN,
        staff_tokens="bench-staff-token-0123456789:admin",
        notify_enabled=False,
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def run_store(label: str, url: str, args: argparse.Namespace, report: Callable[[str], None]) -> None:
    engine = make_engine(url)
    create_schema(engine)
    sql_repo = SqlCaseRepository(engine, hash_key=HASH_KEY)
    cases = seed(sql_repo, args.cases)
    with served_backend(url) as backend_url:
        http_repo = HttpCaseRepository(backend_url, token=SERVICE_TOKEN)
        for path, repo in (("SQL", sql_repo), ("HTTP", http_repo)):
            measure(repo, cases, 50)  # warm-up: connections, caches
            for run in range(1, args.runs + 1):
                t = measure(repo, cases, args.lookups)
                cells = " | ".join(f"{statistics.median(t[k]) * 1000:.3f} / {p95(t[k]) * 1000:.3f}" for k in KINDS)
                ratio = statistics.median(t["wrong"]) / statistics.median(t["unknown"])
                report(f"| {label} | {path} | {run} | {cells} | {ratio:.2f} |")
        http_repo.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=400, help="lookups per kind and run")
    parser.add_argument("--cases", type=int, default=500, help="cases in the store")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"{args.runs} runs x {args.lookups} lookups per kind, {args.cases} cases in the store; times in ms (median / p95)"
    )
    print("| store | path | run | wrong verification | unknown code | right verification | wrong/unknown median |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        run_store("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args, print)
    if not args.no_postgres:
        with scratch_schema(POSTGRES_URL, "bench") as url:
            run_store("PostgreSQL", url, args, print)


if __name__ == "__main__":
    main()
