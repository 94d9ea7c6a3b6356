"""Message rate limits at the channel edge: one sender, and everyone together.

A flood from one sender (a script, a stuck client, an attacker on a public webhook)
must not reach the NLU and the dialogue engine, which run on one event loop per
Rasa server: every message it lets through delays everyone else's answers. The
channels ask :class:`RateLimiter` before handing a message to Rasa; a refused
message gets one polite Spanish reply per window (not one per message, which would
only feed the flood) and is otherwise dropped.

Counters live in the channel store (``incr``: a window starts with the first message
it counts and lasts its seconds), so with
``VENTANILLA_REDIS_URL`` every Rasa server counts together; without it each server
counts its own messages. Limits are ``count/seconds`` strings:

* ``VENTANILLA_RATE_LIMIT_SENDER`` (default ``15/10``): messages per sender;
* ``VENTANILLA_RATE_LIMIT_GLOBAL`` (default ``60/1``): messages of all senders.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.common.privacy import pseudonym
from connectors.common.store import ChannelStore

DEFAULT_SENDER_LIMIT = "15/10"
DEFAULT_GLOBAL_LIMIT = "60/1"


@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages per window of ``seconds``."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str, variable: str) -> Limit:
        try:
            count, seconds = text.strip().split("/", 1)
            limit = cls(int(count), float(seconds))
        except ValueError:
            raise ValueError(f"{variable} debe tener la forma cantidad/segundos (por ejemplo 15/10)") from None
        if limit.count < 1 or limit.seconds <= 0:
            raise ValueError(f"{variable}: la cantidad y los segundos deben ser positivos")
        return limit


@dataclass(frozen=True)
class Verdict:
    """Whether a message may go on; when not, what to say and whether this is the first refusal.

    Channels that push replies (Telegram, WhatsApp, socket.io) say ``text`` only on the
    first refusal of a window; the REST channel answers every request with it.
    """

    allowed: bool
    text: str = ""
    first: bool = False


class RateLimiter:
    def __init__(self, store: ChannelStore, sender: Limit, total: Limit, key: str = "ventanilla") -> None:
        self.store = store
        self.sender = sender
        self.total = total
        self._key = key

    @classmethod
    def from_env(cls, store: ChannelStore, env: Mapping[str, str] | None = None) -> RateLimiter:
        env = os.environ if env is None else env
        sender = Limit.parse(
            env.get("VENTANILLA_RATE_LIMIT_SENDER") or DEFAULT_SENDER_LIMIT, "VENTANILLA_RATE_LIMIT_SENDER"
        )
        total = Limit.parse(
            env.get("VENTANILLA_RATE_LIMIT_GLOBAL") or DEFAULT_GLOBAL_LIMIT, "VENTANILLA_RATE_LIMIT_GLOBAL"
        )
        # Sender ids are personal data (phone numbers on WhatsApp): keys use a keyed hash.
        return cls(store, sender, total, key=env.get("VENTANILLA_RASA_TOKEN") or "ventanilla")

    async def check(self, channel: str, sender_id: str) -> Verdict:
        """Counts one message of ``sender_id`` on ``channel`` and says whether it may go on."""
        from connectors.common import messages

        who = pseudonym(f"{channel}:{sender_id}", self._key)
        sender_count = await self.store.incr(f"rate:s:{who}", self.sender.seconds)
        if sender_count > self.sender.count:
            return Verdict(False, messages.TOO_FAST, sender_count == self.sender.count + 1)
        total_count = await self.store.incr("rate:g", self.total.seconds)
        if total_count > self.total.count:
            # Each refused sender is told once per window of the global limit.
            first = await self.store.claim(f"rate:gs:{who}", self.total.seconds)
            return Verdict(False, messages.BUSY, first)
        return Verdict(True)


_shared: RateLimiter | None = None


def shared_limiter(store: ChannelStore) -> RateLimiter:
    """One limiter per process, created on first use (the store is the process's shared one)."""
    global _shared
    if _shared is None:
        _shared = RateLimiter.from_env(store)
    return _shared
