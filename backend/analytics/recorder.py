"""Records a batch of raw Rasa events: analytics events plus the daily counters, in one transaction.

Both ways events arrive use it: the embedded SQL broker's table (``sql_drain``) and RabbitMQ
(``consumer``). The caller commits (and only then deletes the raw rows or acks the
messages), so a crash in between replays the batch; replays are recognised per
conversation (events older than the last one seen, or equal with a key already seen) and
skipped, so no figure counts twice. Counters are incremented, never recomputed: the
dashboard reads them without scanning the events.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.analytics import reply_times
from backend.analytics.convert import SESSION_START, Emitted, convert, datetime_of, is_contained, utc_day
from backend.analytics.models import AnalyticsConversation, AnalyticsDaily, AnalyticsEvent
from backend.hashing import keyed_hash
from backend.settings import StoreSettings
from backend.unanswered.from_events import UnansweredTap

_KEPT_KEYS = 20
CounterKey = tuple[date, str, str, str]


def counters_of(emitted: Emitted, channel: str) -> list[tuple[CounterKey, int]]:
    """The daily counters one analytics event adds to."""
    day = emitted.day
    kind = emitted.kind
    if kind == "conversation_started":
        return [((day, channel, "conversations", ""), 1)]
    if kind == "reply":
        ms = emitted.value or 0
        return [
            ((day, channel, "reply_count", ""), 1),
            ((day, channel, "reply_ms_sum", ""), ms),
            ((day, channel, reply_times.METRIC, str(reply_times.bucket_of(ms))), 1),
        ]
    if kind == "answer":
        return [((day, channel, "answers", ""), 1), ((day, channel, "procedure", emitted.procedure_id or ""), 1)]
    if kind in ("feedback", "rating"):
        return [((day, channel, kind, str(emitted.value)), 1)]
    plural = {
        "message_in": "messages_in",
        "message_out": "messages_out",
        "abstention": "abstentions",
        "fallback": "fallbacks",
        "handoff": "handoffs",
        "case_opened": "cases_opened",
    }
    return [((day, channel, plural[kind], ""), 1)]


class Recorder:
    """Turns raw events into rows; ``hash_key`` keys the channel users' and events' hashes.

    ``unanswered`` (optional) also sees every new event: the unanswered turns no custom
    action records (``backend.unanswered.from_events``), stored in the same transaction.
    """

    def __init__(self, hash_key: str, unanswered: UnansweredTap | None = None) -> None:
        self._key = hash_key
        self._unanswered = unanswered

    def record(self, session: Session, raw_events: Iterable[dict[str, Any]]) -> int:
        """Adds the batch to ``session`` (not committed); returns how many analytics events it made."""
        deltas: Counter[CounterKey] = Counter()
        current: dict[str, AnalyticsConversation] = {}
        made = 0
        for event in raw_events:
            sender = str(event.get("sender_id") or "")
            sender_hash = keyed_hash(self._key, "analytics", sender)
            conv = current.get(sender_hash) or self._latest(session, sender_hash)
            ts = float(event.get("timestamp") or 0.0)
            event_key = keyed_hash(self._key, "analytics-event", json.dumps(event, sort_keys=True))[:16]
            if conv is not None and _seen(conv, ts, event_key):
                continue
            if conv is None or (event.get("event") == "action" and event.get("name") == SESSION_START):
                conv = self._start(session, sender_hash, ts, reuse=conv)
            current[sender_hash] = conv
            _remember(conv, ts, event_key)
            if self._unanswered is not None:
                self._unanswered.feed(session, event)
            was_contained = is_contained(conv)
            emitted = convert(conv, event)
            if emitted and conv in session.new:
                session.flush()  # the conversation's id
            for item in emitted:
                session.add(_row(conv, item))
                for key, amount in counters_of(item, conv.channel):
                    deltas[key] += amount
            if was_contained != is_contained(conv):
                conv.contained = is_contained(conv)
                deltas[(conv.day, conv.channel, "contained", "")] += 1 if conv.contained else -1
            made += len(emitted)
        if self._unanswered is not None:
            self._unanswered.finish(session)
        _apply(session, deltas)
        return made

    @staticmethod
    def _latest(session: Session, sender_hash: str) -> AnalyticsConversation | None:
        query = (
            select(AnalyticsConversation)
            .where(AnalyticsConversation.sender_hash == sender_hash)
            .order_by(AnalyticsConversation.id.desc())
            .limit(1)
        )
        return session.scalars(query).first()

    @staticmethod
    def _start(
        session: Session, sender_hash: str, ts: float, reuse: AnalyticsConversation | None
    ) -> AnalyticsConversation:
        """A new conversation (Rasa session); an empty one (no citizen message yet) is reused."""
        if reuse is not None and not reuse.counted:
            reuse.started_at, reuse.day = datetime_of(ts), utc_day(ts)
            return reuse
        conv = AnalyticsConversation(
            sender_hash=sender_hash,
            started_at=datetime_of(ts),
            day=utc_day(ts),
            channel="",
            counted=False,
            handoff=False,
            open_failure=False,
            contained=False,
            last_ts=0.0,
            last_keys="",
            user_ts=None,
            replied=True,
            last_intent="",
            last_action="",
            rating_candidate=None,
        )
        session.add(conv)
        return conv


def _seen(conv: AnalyticsConversation, ts: float, key: str) -> bool:
    return ts < conv.last_ts or (ts == conv.last_ts and key in conv.last_keys.split(","))


def _remember(conv: AnalyticsConversation, ts: float, key: str) -> None:
    if ts == conv.last_ts:
        keys = [k for k in conv.last_keys.split(",") if k][-(_KEPT_KEYS - 1) :]
        conv.last_keys = ",".join([*keys, key])
    else:
        conv.last_ts, conv.last_keys = ts, key


def _row(conv: AnalyticsConversation, item: Emitted) -> AnalyticsEvent:
    return AnalyticsEvent(
        conversation_id=conv.id,
        at=item.at,
        day=item.day,
        channel=conv.channel,
        kind=item.kind,
        intent=item.intent,
        confidence=item.confidence,
        procedure_id=item.procedure_id,
        score=item.score,
        value=item.value,
    )


def _apply(session: Session, deltas: Counter[CounterKey]) -> None:
    """Adds the deltas to analytics_daily with one upsert per row (SQLite and PostgreSQL)."""
    rows = [
        {"day": day, "channel": channel, "metric": metric, "key": key, "value": value}
        for (day, channel, metric, key), value in deltas.items()
        if value
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(rows), 150):  # SQLite's bound-parameter limit
        statement = insert(AnalyticsDaily).values(rows[start : start + 150])
        statement = statement.on_conflict_do_update(
            index_elements=["day", "channel", "metric", "key"],
            set_={"value": AnalyticsDaily.value + statement.excluded.value},
        )
        session.execute(statement)


def recorder_for(settings: StoreSettings) -> Recorder:
    """The recorder both event paths use: analytics plus the unanswered turns (threshold from settings)."""
    tap = UnansweredTap(
        hash_key=settings.case_hash_key,
        case_code_prefix=settings.case_code_prefix,
        threshold=settings.unanswered_low_confidence,
    )
    return Recorder(settings.case_hash_key, tap)
