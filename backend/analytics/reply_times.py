"""Reply times as counts in fine log-spaced buckets: median and p95 within 2 % of the exact ones.

The dashboard must not scan raw events, so reply times are kept as daily counters per
bucket (``analytics_daily``, metric ``reply_log``, key = bucket index). Bucket ``i`` holds
the times in ``(GAMMA**(i-1), GAMMA**i]`` milliseconds, ``GAMMA = (1 + ERROR) / (1 - ERROR)``,
and is read as ``2 * GAMMA**i / (GAMMA + 1)``: every time in the bucket is within
``ERROR`` (2 %) of that value (the DDSketch construction). A quantile is taken with the
nearest-rank rule (the ``ceil(q * n)``-th smallest time), so the figure shown is within 2 %
of the exact nearest-rank quantile of the same replies, whatever the range and channel.
From 1 ms to an hour that is 380 buckets, and a day of one channel fills a few dozen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

ERROR = 0.02
GAMMA = (1 + ERROR) / (1 - ERROR)
_LOG_GAMMA = math.log(GAMMA)
METRIC = "reply_log"


ZERO = -1  # replies timed at 0 ms (same timestamp): read as 0


def bucket_of(ms: int) -> int:
    """The bucket a reply time (milliseconds) is counted in."""
    if ms <= 0:
        return ZERO
    index = math.ceil(math.log(ms) / _LOG_GAMMA)
    # log() rounding can land an exact power of GAMMA one bucket off; the bounds decide.
    if GAMMA ** (index - 1) >= ms:
        index -= 1
    elif GAMMA**index < ms:
        index += 1
    return index


def value_of(bucket: int) -> float:
    """The value a bucket is read as (within ERROR of every time in it)."""
    return 0.0 if bucket == ZERO else 2 * GAMMA**bucket / (GAMMA + 1)


def quantile(counts: Mapping[int, int], q: float) -> float | None:
    """The nearest-rank q-quantile (0 < q <= 1) of the counted times; None when there are none."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total - 1e-9))
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return value_of(bucket)
    return value_of(max(counts))  # unreachable: seen reaches total
