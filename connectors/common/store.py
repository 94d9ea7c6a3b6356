"""A small key-value store with expiry, shared by every channel of one Rasa server.

The channels keep four kinds of short-lived state in it: which updates/messages were
already processed (deduplication), long button payloads behind short references,
the numbered menu a WhatsApp citizen may answer, and when each WhatsApp citizen last
wrote (the 24-hour window), plus delivery statuses.

:class:`MemoryStore` is the reference implementation (one process, lost on restart);
:class:`RedisStore` is used when ``VENTANILLA_REDIS_URL`` is set, so that several Rasa
servers behind a load balancer share it and a restart loses nothing. Creating either
opens no connection: Redis is contacted on first use.
"""

from __future__ import annotations

import abc
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

KEY_PREFIX = "ventanilla:channels:"


class ChannelStore(abc.ABC):
    """Async key-value operations with a time to live (seconds) on every key."""

    @abc.abstractmethod
    async def claim(self, key: str, ttl: float) -> bool:
        """Atomically marks ``key``; True only for the first caller within ``ttl``."""

    @abc.abstractmethod
    async def put(self, key: str, value: str, ttl: float) -> None:
        """Stores ``value`` under ``key`` (replacing any value) for ``ttl`` seconds."""

    @abc.abstractmethod
    async def get(self, key: str) -> str | None:
        """The live value of ``key``, or None."""

    @abc.abstractmethod
    async def pop(self, key: str) -> str | None:
        """The live value of ``key`` (or None), removing it atomically."""

    @abc.abstractmethod
    async def incr(self, key: str, ttl: float) -> int:
        """Atomically adds 1 to a counter and returns it; the first increment starts its ``ttl``."""

    async def close(self) -> None:  # noqa: B027 - optional hook: stores without connections keep it
        """Releases connections (nothing to do for the memory store)."""


class MemoryStore(ChannelStore):
    """In-process store. Safe within one asyncio event loop: no operation awaits.

    Bounded: beyond ``max_keys`` expired entries and then the oldest ones are dropped,
    so a flood of updates cannot exhaust memory.
    """

    def __init__(self, max_keys: int = 200_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    def _live(self, key: str) -> tuple[float, str] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._data[key]
            return None
        return entry

    def _prune(self) -> None:
        """Drops expired entries, then the oldest ones down to 90 % of the bound."""
        now = self._clock()
        for key in [k for k, (deadline, _) in self._data.items() if deadline <= now]:
            del self._data[key]
        while len(self._data) > self._max_keys * 9 // 10:
            self._data.popitem(last=False)

    def _set(self, key: str, value: str, ttl: float) -> None:
        self._data.pop(key, None)
        self._data[key] = (self._clock() + ttl, value)
        if len(self._data) > self._max_keys:
            self._prune()

    async def claim(self, key: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._set(key, "1", ttl)
        return True

    async def put(self, key: str, value: str, ttl: float) -> None:
        self._set(key, value, ttl)

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[1] if entry else None

    async def pop(self, key: str) -> str | None:
        entry = self._live(key)
        if entry is None:
            return None
        del self._data[key]
        return entry[1]

    async def incr(self, key: str, ttl: float) -> int:
        entry = self._live(key)
        if entry is None:
            self._set(key, "1", ttl)
            return 1
        count = int(entry[1]) + 1
        self._data[key] = (entry[0], str(count))  # keeps the window's deadline
        return count


class RedisStore(ChannelStore):
    """Redis-backed store (redis-py's asyncio client; works with redis-py 4.6 and later)."""

    def __init__(self, url: str, prefix: str = KEY_PREFIX) -> None:
        self._url = url
        self._prefix = prefix
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            from redis import asyncio as redis_asyncio

            # from_url only parses the URL: the connection is opened by the first command.
            self._client = redis_asyncio.Redis.from_url(self._url, decode_responses=True)
        return self._client

    def _key(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _ms(ttl: float) -> int:
        return max(1, int(ttl * 1000))

    async def claim(self, key: str, ttl: float) -> bool:
        return bool(await self._redis().set(self._key(key), "1", px=self._ms(ttl), nx=True))

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self._redis().set(self._key(key), value, px=self._ms(ttl))

    async def get(self, key: str) -> str | None:
        value = await self._redis().get(self._key(key))
        return None if value is None else str(value)

    async def pop(self, key: str) -> str | None:
        client = self._redis()
        async with client.pipeline(transaction=True) as pipe:
            pipe.get(self._key(key))
            pipe.delete(self._key(key))
            value, _ = await pipe.execute()
        return None if value is None else str(value)

    async def incr(self, key: str, ttl: float) -> int:
        client = self._redis()
        async with client.pipeline(transaction=True) as pipe:
            pipe.incr(self._key(key))
            # NX: only the first increment sets the expiry, so the window does not slide.
            pipe.pexpire(self._key(key), self._ms(ttl), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        if self._client is not None:
            closer = getattr(self._client, "aclose", None) or self._client.close
            await closer()
            self._client = None


def store_from_env(env: Mapping[str, str] | None = None) -> ChannelStore:
    """Redis when ``VENTANILLA_REDIS_URL`` is set, else the in-memory store."""
    env = os.environ if env is None else env
    url = (env.get("VENTANILLA_REDIS_URL") or "").strip()
    return RedisStore(url) if url else MemoryStore()


_shared: ChannelStore | None = None


def shared_store() -> ChannelStore:
    """The one store of this process, created on first use (never at import time)."""
    global _shared
    if _shared is None:
        _shared = store_from_env()
    return _shared
