"""Item 1 (rate limits), unit level: the limiter over the memory store and over Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from connectors.common import messages
from connectors.common.ratelimit import Limit, RateLimiter
from connectors.common.store import ChannelStore, MemoryStore, RedisStore
from tests.conftest import require_service


def _stores() -> list[str]:
    return ["memory", "redis"]


@pytest.fixture(params=_stores())
def store(request: pytest.FixtureRequest) -> ChannelStore:
    if request.param == "memory":
        return MemoryStore()
    require_service("Redis", "127.0.0.1", 6379)
    return RedisStore("redis://127.0.0.1:6379/0", prefix=f"ventanilla:test:{uuid.uuid4().hex}:")


def test_a_sender_beyond_the_limit_is_refused_politely_once_per_window(store: ChannelStore) -> None:
    async def run() -> None:
        limiter = RateLimiter(store, Limit(15, 10), Limit(1000, 1))
        verdicts = [await limiter.check("rest", "flooder") for _ in range(20)]
        assert [v.allowed for v in verdicts] == [True] * 15 + [False] * 5
        assert [v.first for v in verdicts[15:]] == [True, False, False, False, False]
        assert all(v.text == messages.TOO_FAST for v in verdicts[15:])
        assert (await limiter.check("rest", "someone-else")).allowed
        assert (await limiter.check("telegram", "flooder")).allowed  # per channel user
        await store.close()

    asyncio.run(run())


def test_the_window_ends(store: ChannelStore) -> None:
    async def run() -> None:
        limiter = RateLimiter(store, Limit(2, 0.5), Limit(1000, 1))
        assert [(await limiter.check("rest", "s")).allowed for _ in range(3)] == [True, True, False]
        await asyncio.sleep(0.6)
        assert (await limiter.check("rest", "s")).allowed
        await store.close()

    asyncio.run(run())


def test_the_global_limit_refuses_everyone_beyond_it(store: ChannelStore) -> None:
    async def run() -> None:
        limiter = RateLimiter(store, Limit(100, 10), Limit(5, 5))
        verdicts = [await limiter.check("rest", f"sender-{i}") for i in range(8)]
        assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 3
        assert all(v.text == messages.BUSY and v.first for v in verdicts[5:])
        await store.close()

    asyncio.run(run())


def test_limits_are_read_from_the_environment() -> None:
    limiter = RateLimiter.from_env(MemoryStore(), {"VENTANILLA_RATE_LIMIT_SENDER": "3/5"})
    assert limiter.sender == Limit(3, 5.0) and limiter.total == Limit(60, 1.0)
    with pytest.raises(ValueError, match="VENTANILLA_RATE_LIMIT_GLOBAL"):
        RateLimiter.from_env(MemoryStore(), {"VENTANILLA_RATE_LIMIT_GLOBAL": "mucho"})
