"""The public transparency page's figures: aggregates only, small groups hidden.

A figure is shown only when it is built from at least ``minimum`` conversations (or, for
shares of answers and ratings, that many answers or ratings): below that, a handful of
people could be recognised from it. Hidden figures are ``None`` and the page says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.analytics.queries import Figures


@dataclass
class PublicFigures:
    minimum: int
    conversations: int | None = None
    containment: float | None = None
    abstention_rate: float | None = None
    helpful_share: float | None = None
    rating_mean: float | None = None
    reply_median_seconds: float | None = None
    per_channel: list[tuple[str, int | None]] = field(default_factory=list)
    procedures: list[tuple[str, int]] = field(default_factory=list)
    hidden: int = 0


def public_figures(f: Figures, minimum: int = 10) -> PublicFigures:
    page = PublicFigures(minimum=minimum)
    if f.conversations < minimum:
        page.hidden = 1
        return page  # too few conversations in the whole period: nothing at all

    def shown(value: float | None, base: int) -> float | None:
        if base < minimum:
            page.hidden += 1
            return None
        return value

    page.conversations = f.conversations
    page.containment = f.containment
    page.abstention_rate = shown(f.abstention_rate, f.total("answers") + f.total("abstentions"))
    page.helpful_share = shown(f.helpful_share, sum(f.helpful.values()))
    page.rating_mean = shown(f.rating_mean, f.rating_count)
    median = f.reply_median_ms
    page.reply_median_seconds = shown(None if median is None else median / 1000, f.total("reply_count"))
    for channel, count in f.per_channel.items():
        page.per_channel.append((channel, count if count >= minimum else None))
        page.hidden += count < minimum
    page.procedures = [(procedure, n) for procedure, n in f.procedures[:10] if n >= minimum]
    return page
