"""The dashboard over 1,000,000 analytics events: a 90-day range must answer in <= 1 s.

On PostgreSQL (a scratch schema on 127.0.0.1:5432, the production store): ``--events``
analytics events spread over ``--days`` days and 3 channels are written (the events table
by ``generate_series``, the daily counters from the same synthetic events through
``backend.analytics.recorder.counters_of``, i.e. what the recorder adds per event), then the
dashboard's work for a 90-day range (``queries.figures`` + ``case_figures`` + every table
and its CSV) is timed ``--runs`` times, all channels and one channel. Also times the
recorder itself on ``--record`` raw Rasa events (a scripted mix) to give its throughput.

    .venv/bin/python -m bench.analytics_dashboard --events 1000000 --days 120 --runs 7
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from backend.analytics import tables
from backend.analytics.case_figures import case_figures
from backend.analytics.convert import Emitted
from backend.analytics.models import AnalyticsDaily
from backend.analytics.queries import figures
from backend.analytics.recorder import CounterKey, Recorder, counters_of
from backend.db import create_schema, make_engine, session_factory
from backend.scratch_schema import scratch_schema

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CHANNELS = ("rest", "telegram", "whatsapp")
KINDS = [
    ("message_in", 30),
    ("message_out", 34),
    ("reply", 30),
    ("answer", 12),
    ("abstention", 3),
    ("fallback", 2),
    ("conversation_started", 8),
    ("handoff", 1),
    ("case_opened", 1),
    ("feedback", 2),
    ("rating", 1),
]


def synthetic(n: int, days: int, seed: int = 7) -> Counter[CounterKey]:
    """The daily counters of ``n`` synthetic events (same distribution of kinds as a real week)."""
    rng = random.Random(seed)
    names = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    first = datetime.now(UTC) - timedelta(days=days)
    deltas: Counter[CounterKey] = Counter()
    for _ in range(n):
        kind = rng.choices(names, weights)[0]
        ts = (first + timedelta(seconds=rng.uniform(0, days * 86400))).timestamp()
        value = {"reply": int(rng.lognormvariate(6.5, 0.6)), "feedback": rng.randint(0, 1), "rating": rng.randint(1, 5)}
        item = Emitted(kind, ts, procedure_id=f"tramite-{rng.randint(1, 42)}", value=value.get(kind))
        for key, amount in counters_of(item, rng.choice(CHANNELS)):
            deltas[key] += amount
    for (day, channel, metric, key), value in list(deltas.items()):
        if metric == "conversations":
            deltas[(day, channel, "contained", key)] = int(value * 0.7)
    return deltas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--record", type=int, default=20_000)
    args = parser.parse_args(argv)
    with scratch_schema(POSTGRES, prefix="bench_analytics") as url:
        engine = make_engine(url, pool_size=2, max_overflow=0)
        create_schema(engine)
        sessions = session_factory(engine)
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO analytics_events (conversation_id, at, day, channel, kind, value) "
                    "SELECT g / 9, now() - (g % (:days * 86400)) * interval '1 second', "
                    "(now() - (g % (:days * 86400)) * interval '1 second')::date, "
                    "(ARRAY['rest','telegram','whatsapp'])[1 + g % 3], 'message_in', NULL "
                    "FROM generate_series(1, :n) AS g"
                ),
                {"n": args.events, "days": args.days},
            )
        deltas = synthetic(args.events, args.days)
        rows = [{"day": d, "channel": c, "metric": m, "key": k, "value": v} for (d, c, m, k), v in deltas.items() if v]
        with engine.begin() as conn:
            for start in range(0, len(rows), 1000):
                conn.execute(postgresql.insert(AnalyticsDaily).values(rows[start : start + 1000]))
            conn.execute(text("ANALYZE"))
        print(
            f"{args.events:,} events, {len(rows):,} daily counter rows written in {time.perf_counter() - started:.1f} s"
        )

        end = datetime.now(UTC).date()
        begin = end - timedelta(days=89)
        for channel in (None, "telegram"):
            timings = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                with sessions() as db:
                    result = figures(db, begin, end, channel)
                    every = tables.all_tables(result, case_figures(db, begin, end, channel))
                    _ = [t.csv() for t in every]
                timings.append(time.perf_counter() - t0)
            print(
                f"90-day dashboard, channel={channel or 'all'}: median {statistics.median(timings) * 1000:.1f} ms, "
                f"max {max(timings) * 1000:.1f} ms over {args.runs} runs ({result.conversations:,} conversations)"
            )

        raw = _raw_events(args.record, end)
        t0 = time.perf_counter()
        with sessions() as db:
            for start in range(0, len(raw), 500):
                Recorder("bench-key-" * 4).record(db, raw[start : start + 500])
                db.commit()
        spent = time.perf_counter() - t0
        print(f"recorder: {len(raw):,} raw Rasa events in {spent:.1f} s ({len(raw) / spent:,.0f} events/s)")
        engine.dispose()
    return 0


def _raw_events(n: int, day: date) -> list[dict[str, object]]:
    """Scripted raw Rasa events (one answered question per conversation, 9 events each)."""
    base = datetime.combine(day, datetime.min.time(), UTC).timestamp()
    out: list[dict[str, object]] = []
    conv = 0
    while len(out) < n:
        sender, ts = f"bench-{conv}", base + conv
        parse = {"intent": {"name": "ask_procedure", "confidence": 0.9}, "entities": []}
        steps: list[dict[str, object]] = [
            {"event": "action", "name": "action_session_start"},
            {"event": "session_started"},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "pregunta", "parse_data": parse, "input_channel": "rest"},
            {"event": "action", "name": "action_answer_procedure"},
            {"event": "bot", "text": "respuesta", "metadata": {"utter_action": "utter_kb_answer"}},
            {"event": "bot", "data": {"custom": {"type": "kb_answer", "procedure_id": "pasaporte-emision"}}},
            {"event": "slot", "name": "kb_answered", "value": True},
            {"event": "action", "name": "action_listen"},
        ]
        for i, step in enumerate(steps):
            out.append({"sender_id": sender, "timestamp": ts + i * 0.01, **step})
        conv += 1
    return out[:n]


if __name__ == "__main__":
    raise SystemExit(main())
