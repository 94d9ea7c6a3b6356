"""The channel store: in memory by default, Redis when VENTANILLA_REDIS_URL is set.

Deduplication depends on ``claim`` being atomic: of many concurrent deliveries of the
same update, exactly one may win.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

import pytest

from connectors.common.store import ChannelStore, MemoryStore, RedisStore, store_from_env

ROOT = Path(__file__).resolve().parents[2]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


async def _exercise(store: ChannelStore, prefix: str) -> None:
    key = f"{prefix}:update:1"
    results = await asyncio.gather(*(store.claim(key, 60) for _ in range(20)))
    assert results.count(True) == 1
    assert await store.claim(key, 60) is False
    await store.put(f"{prefix}:menu", "[1, 2]", 60)
    assert await store.get(f"{prefix}:menu") == "[1, 2]"
    assert await store.pop(f"{prefix}:menu") == "[1, 2]"
    assert await store.pop(f"{prefix}:menu") is None
    assert await store.get(f"{prefix}:missing") is None


def test_memory_store_claims_once_and_expires() -> None:
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    asyncio.run(_exercise(store, "m"))

    async def expiry() -> None:
        assert await store.claim("k", 10)
        now[0] = 9.9
        assert not await store.claim("k", 10)
        now[0] = 10.0
        assert await store.claim("k", 10)  # the same update id a day later is new again

    asyncio.run(expiry())


def test_memory_store_is_bounded() -> None:
    store = MemoryStore(max_keys=100)

    async def flood() -> None:
        for i in range(1000):
            await store.put(f"k{i}", "v", 3600)
        assert await store.get("k999") == "v"  # the newest survive
        assert await store.get("k0") is None  # the oldest went first

    asyncio.run(flood())
    assert len(store._data) <= 100


def test_store_choice_follows_the_environment() -> None:
    assert isinstance(store_from_env({}), MemoryStore)
    assert isinstance(store_from_env({"VENTANILLA_REDIS_URL": "redis://127.0.0.1:6379/0"}), RedisStore)


def test_redis_store(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    prefix = f"test-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        store = RedisStore(f"redis://{host}:{port}/0")
        try:
            await _exercise(store, prefix)
            await store.put(f"{prefix}:short", "x", 0.2)
            await asyncio.sleep(0.4)
            assert await store.get(f"{prefix}:short") is None
        finally:
            await store.close()

    asyncio.run(scenario())


@pytest.mark.slow  # starts Rasa's Python
def test_redis_store_with_the_rasa_environments_client(redis_address: tuple[str, int]) -> None:
    """The Rasa process has redis-py 4.6, not the 8.x of this environment: both must work,
    and a claim made by one process is seen by another (what several Rasa servers need)."""
    host, port = redis_address
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    url = f"redis://{host}:{port}/0"
    script = (
        "import asyncio, sys\n"
        "from connectors.common.store import RedisStore\n"
        "async def main():\n"
        f"    s = RedisStore({url!r})\n"
        f"    first = await s.claim({prefix!r} + ':u', 60)\n"
        f"    await s.put({prefix!r} + ':v', 'from-rasa', 60)\n"
        "    await s.close()\n"
        "    print(first)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([str(RASA_PY), "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True"

    async def here() -> None:
        store = RedisStore(url)
        try:
            assert await store.claim(f"{prefix}:u", 60) is False
            assert await store.get(f"{prefix}:v") == "from-rasa"
        finally:
            await store.close()

    asyncio.run(here())
