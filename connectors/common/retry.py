"""Sending with retries and exponential backoff, honouring the platform's Retry-After.

Both platforms answer 429 (with how long to wait) when we send too fast and 5xx when
they are briefly down. A message is retried a few times with a growing pause; a wait
the platform asks for is honoured unless it is longer than ``max_retry_after``, in
which case we give up rather than hold the citizen's conversation for minutes. Errors
that retrying cannot fix (a bad request, a blocked bot) are raised at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def backoff(self, retry_number: int) -> float:
        """Pause before retry ``retry_number`` (1, 2, ...): base·2ⁿ⁻¹, up to +25 % jitter."""
        delay = min(self.max_delay, self.base_delay * (2.0 ** (retry_number - 1)))
        return delay * (1 + random.random() * 0.25)  # noqa: S311 - jitter, not a secret


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class Retry:
    """A failure worth retrying, with the wait the platform asked for (if any)."""

    retry_after: float | None = None


# Given an exception, a Retry when the call may be repeated, else None.
Classifier = Callable[[BaseException], Retry | None]


async def with_retries(
    call: Callable[[], Awaitable[T]],
    classify: Classifier,
    policy: RetryPolicy = RetryPolicy(),
    *,
    what: str = "request",
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Runs ``call`` until it succeeds, fails for good, or the attempts run out."""
    retry_number = 0
    while True:
        try:
            return await call()
        except Exception as exc:  # the classifier decides
            retry = classify(exc)
            retry_number += 1
            if retry is None or retry_number >= policy.attempts:
                raise
            delay = policy.backoff(retry_number)
            if retry.retry_after is not None:
                if retry.retry_after > policy.max_retry_after:
                    logger.warning("%s: the platform asks to wait %.0f s; giving up", what, retry.retry_after)
                    raise
                delay = max(delay, retry.retry_after)
            logger.info("%s failed (%s); retry %d in %.2f s", what, type(exc).__name__, retry_number, delay)
            await sleep(delay)
