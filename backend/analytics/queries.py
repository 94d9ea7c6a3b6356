"""The dashboard's figures for a date range and channel, read from the daily counters only.

One grouped query over ``analytics_daily`` (a few dozen rows per day), whatever the number
of events: a 90-day range over a million events costs what a 90-day range over a hundred
does (bench/analytics_dashboard.py).

Definitions (shown on the dashboard too):
- containment: share of conversations with no handoff to a person and no unresolved
  failure (a fallback or a "no sé" not followed, in the same conversation, by an answer or a
  case opened); counted on the day the conversation started.
- fallback rate: fallbacks / citizens' messages; abstention rate: "no sé" / (answers + "no sé").
- reply time: from the citizen's message to the bot's first reply; median and p95 read from
  fine log-spaced buckets, within 2 % of the exact nearest-rank values (reply_times.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.analytics import reply_times
from backend.analytics.models import AnalyticsDaily


@dataclass
class Figures:
    """Everything the dashboard and the public page show for one range and channel."""

    start: date
    end: date
    channel: str | None
    totals: dict[str, int] = field(default_factory=dict)
    per_day: dict[date, dict[str, int]] = field(default_factory=dict)
    per_channel: dict[str, int] = field(default_factory=dict)
    procedures: list[tuple[str, int]] = field(default_factory=list)
    ratings: dict[int, int] = field(default_factory=dict)
    helpful: dict[bool, int] = field(default_factory=dict)
    # reply-time bucket index (reply_times.py) -> replies
    reply_buckets: dict[int, int] = field(default_factory=dict)

    def total(self, metric: str) -> int:
        return self.totals.get(metric, 0)

    @property
    def conversations(self) -> int:
        return self.total("conversations")

    @property
    def containment(self) -> float | None:
        return _share(self.total("contained"), self.conversations)

    @property
    def fallback_rate(self) -> float | None:
        return _share(self.total("fallbacks"), self.total("messages_in"))

    @property
    def abstention_rate(self) -> float | None:
        return _share(self.total("abstentions"), self.total("answers") + self.total("abstentions"))

    @property
    def helpful_share(self) -> float | None:
        return _share(self.helpful.get(True, 0), sum(self.helpful.values()))

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_mean(self) -> float | None:
        count = self.rating_count
        return None if not count else sum(score * n for score, n in self.ratings.items()) / count

    @property
    def reply_median_ms(self) -> float | None:
        return reply_times.quantile(self.reply_buckets, 0.5)

    @property
    def reply_p95_ms(self) -> float | None:
        return reply_times.quantile(self.reply_buckets, 0.95)


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def figures(session: Session, start: date, end: date, channel: str | None = None) -> Figures:
    """The figures for ``start``..``end`` (both included), one channel or all."""
    in_range = [AnalyticsDaily.day >= start, AnalyticsDaily.day <= end]
    if channel:
        in_range.append(AnalyticsDaily.channel == channel)
    query = (
        select(AnalyticsDaily.day, AnalyticsDaily.channel, AnalyticsDaily.metric, AnalyticsDaily.key)
        .add_columns(func.sum(AnalyticsDaily.value))
        .where(*in_range, AnalyticsDaily.metric != reply_times.METRIC)
        .group_by(AnalyticsDaily.day, AnalyticsDaily.channel, AnalyticsDaily.metric, AnalyticsDaily.key)
    )
    # Reply-time buckets only as range totals: summed in the database, not per day.
    replies = (
        select(AnalyticsDaily.key, func.sum(AnalyticsDaily.value))
        .where(*in_range, AnalyticsDaily.metric == reply_times.METRIC)
        .group_by(AnalyticsDaily.key)
    )
    result = Figures(start=start, end=end, channel=channel)
    for key, value in session.execute(replies):
        result.reply_buckets[int(key)] = int(value or 0)
    totals: dict[str, int] = defaultdict(int)
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_channel: dict[str, int] = defaultdict(int)
    procedures: dict[str, int] = defaultdict(int)
    for day, chan, metric, key, value in session.execute(query):
        value = int(value or 0)
        if metric == "procedure":
            procedures[key] += value
        elif metric == "rating":
            result.ratings[int(key)] = result.ratings.get(int(key), 0) + value
        elif metric == "feedback":
            result.helpful[key == "1"] = result.helpful.get(key == "1", 0) + value
        else:
            totals[metric] += value
            per_day[day][metric] += value
            if metric == "conversations":
                per_channel[chan or "desconocido"] += value
    result.totals = dict(totals)
    result.per_day = {day: dict(values) for day, values in sorted(per_day.items())}
    result.per_channel = dict(sorted(per_channel.items()))
    result.procedures = sorted(procedures.items(), key=lambda item: (-item[1], item[0]))
    return result


def channels(session: Session) -> list[str]:
    """The channels that ever had events (the dashboard's filter)."""
    return [c for c in session.scalars(select(AnalyticsDaily.channel).distinct().order_by(AnalyticsDaily.channel)) if c]
