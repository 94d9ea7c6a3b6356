"""Delivers queued notifications to Rasa, retrying with backoff, each exactly once.

Runs as a background task of the backend process. Safe with several dispatchers on
one database (several backend replicas): due rows are selected ``FOR UPDATE SKIP
LOCKED`` and *claimed* with a conditional UPDATE (pending and due, or a lease that
expired) that sets a fresh claim token, and only the holder of that token may mark it
delivered or failed. A crash between Rasa's answer and our commit makes
the row due again after its lease, so delivery is at-least-once at that single
point and exactly-once everywhere else.

Delivery: first ``GET {rasa}/conversations/{sender}/tracker`` - when the citizen is in
the middle of a form, or a person has taken the conversation over (paused), the
notification waits (``notify_defer_seconds``, at most ``notify_max_defer_seconds``)
instead of interrupting; then ``POST {rasa}/conversations/{sender}/trigger_intent?
output_channel={channel}`` with the ``case_status_changed`` intent. Rasa runs the rule in
bot/dialogue/notifications.yml and sends the response through the channel the
case was opened on. Rasa answers 500 when the channel's send fails, so a channel
outage is retried here like a Rasa outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend import notifications
from backend.models import Case, NotificationOutbox, OutboxState
from backend.settings import BackendSettings

logger = logging.getLogger("backend.dispatcher")


@dataclass(frozen=True)
class Claimed:
    """A notification this dispatcher holds, with what delivery needs."""

    outbox_id: int
    claim_token: str
    attempts: int
    case_code: str
    to_status: str
    channel: str
    sender_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str | None = None
    # Not an error: the conversation is busy (a form, a human agent); try again later.
    deferred: bool = False


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter in its upper half: base * 2^(n-1), capped."""
    delay = min(cap, base * 2.0 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


class OutboxStore:
    """The outbox's database side: claim, complete, fail. Synchronous (run in a thread)."""

    def __init__(self, engine: Engine, settings: BackendSettings) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._settings = settings

    def claim_due(self, limit: int = 20, now: datetime | None = None) -> list[Claimed]:
        """Takes up to ``limit`` due rows for this dispatcher, in one transaction.

        ``FOR UPDATE SKIP LOCKED`` (PostgreSQL): a second dispatcher claiming at the same
        moment skips the rows locked here and takes the next ones, instead of waiting for
        them and then finding them taken. SQLite ignores it and serialises writers. The
        conditional UPDATE (still due) stays as the guard that makes a claim exclusive.
        """
        now = now or datetime.now(timezone.utc)
        due = or_(
            and_(NotificationOutbox.state == OutboxState.PENDING, NotificationOutbox.next_attempt_at <= now),
            and_(NotificationOutbox.state == OutboxState.IN_PROGRESS, NotificationOutbox.locked_until < now),
        )
        claimed: list[Claimed] = []
        lease = now + timedelta(seconds=self._settings.notify_lease_seconds)
        with self._sessions.begin() as session:
            ids = session.scalars(
                select(NotificationOutbox.id)
                .where(due)
                .order_by(NotificationOutbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for outbox_id in ids:
                token = str(uuid.uuid4())
                result = session.execute(
                    update(NotificationOutbox)
                    .where(NotificationOutbox.id == outbox_id, due)
                    .values(state=OutboxState.IN_PROGRESS, claim_token=token, locked_until=lease)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # no longer due
                row = session.execute(
                    select(
                        NotificationOutbox.attempts,
                        NotificationOutbox.to_status,
                        NotificationOutbox.created_at,
                        Case.code,
                        Case.channel,
                        Case.sender_id,
                    )
                    .join(Case, Case.id == NotificationOutbox.case_id)
                    .where(NotificationOutbox.id == outbox_id)
                ).one()
                claimed.append(
                    Claimed(
                        outbox_id,
                        token,
                        row.attempts,
                        row.code,
                        row.to_status,
                        row.channel,
                        row.sender_id,
                        row.created_at,
                    )
                )
        return claimed

    def _finish(self, item: Claimed, **values: object) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(
                update(NotificationOutbox)
                .where(
                    NotificationOutbox.id == item.outbox_id,
                    NotificationOutbox.claim_token == item.claim_token,
                    NotificationOutbox.state == OutboxState.IN_PROGRESS,
                )
                .values(claim_token=None, locked_until=None, **values)
                .execution_options(synchronize_session=False)
            )
            changed: int = result.rowcount  # type: ignore[attr-defined]  # a CursorResult for UPDATE
            return changed == 1

    def mark_delivered(self, item: Claimed, now: datetime | None = None) -> bool:
        now = now or datetime.now(timezone.utc)
        return self._finish(
            item, state=OutboxState.DELIVERED, delivered_at=now, attempts=item.attempts + 1, last_error=None
        )

    def mark_cancelled(self, item: Claimed, reason: str) -> bool:
        return self._finish(item, state=OutboxState.CANCELLED, last_error=reason[:200])

    def mark_deferred(self, item: Claimed, reason: str, now: datetime | None = None) -> bool:
        """Back to the queue without counting an attempt (nothing failed)."""
        now = now or datetime.now(timezone.utc)
        return self._finish(
            item,
            state=OutboxState.PENDING,
            next_attempt_at=now + timedelta(seconds=self._settings.notify_defer_seconds),
            last_error=reason[:200],
        )

    def mark_failed(self, item: Claimed, error: str, now: datetime | None = None) -> bool:
        now = now or datetime.now(timezone.utc)
        attempts = item.attempts + 1
        s = self._settings
        if attempts >= s.notify_max_attempts:
            return self._finish(item, state=OutboxState.FAILED, attempts=attempts, last_error=error[:200])
        delay = backoff_seconds(attempts, base=s.notify_backoff_base_seconds, cap=s.notify_backoff_max_seconds)
        return self._finish(
            item,
            state=OutboxState.PENDING,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=delay),
            last_error=error[:200],
        )


class RasaNotifier:
    """Sends one notification through Rasa's trigger-intent API."""

    def __init__(self, client: httpx.AsyncClient, settings: BackendSettings) -> None:
        self._client = client
        self._settings = settings

    def _conversation_url(self, sender_id: str) -> str:
        return f"{self._settings.rasa_url.rstrip('/')}/conversations/{quote(sender_id, safe='')}"

    def _params(self, **values: str) -> dict[str, str]:
        if self._settings.rasa_token:
            values["token"] = self._settings.rasa_token
        return values

    async def busy_reason(self, sender_id: str) -> str | None:
        """'in a form' / 'with a person' when now is a bad moment to interrupt, else None.

        Raises httpx.HTTPError (or returns via the status check) when Rasa cannot say.
        """
        response = await self._client.get(
            f"{self._conversation_url(sender_id)}/tracker", params=self._params(include_events="NONE")
        )
        response.raise_for_status()
        tracker = response.json()  # holds slots (personal data): read two fields, log nothing
        if tracker.get("paused"):
            return "conversation with a person"
        if (tracker.get("active_loop") or {}).get("name"):
            return "conversation in a form"
        return None

    async def send(self, item: Claimed, now: datetime | None = None) -> DeliveryResult:
        if item.sender_id is None:  # claimed rows always have one (erased cases are not claimed)
            raise ValueError("notification without a sender")
        now = now or datetime.now(timezone.utc)
        waited = (now - item.created_at).total_seconds()
        if waited < self._settings.notify_max_defer_seconds:
            try:
                busy = await self.busy_reason(item.sender_id)
            except httpx.HTTPStatusError as exc:
                return DeliveryResult(False, f"tracker HTTP {exc.response.status_code}")
            except (httpx.HTTPError, ValueError) as exc:
                return DeliveryResult(False, f"{type(exc).__name__}")
            if busy:
                return DeliveryResult(False, f"deferred: {busy}", deferred=True)
        url = f"{self._conversation_url(item.sender_id)}/trigger_intent"
        params = self._params(output_channel=item.channel)
        body = {
            "name": notifications.INTENT,
            "entities": notifications.trigger_entities(item.case_code, item.to_status),
        }
        try:
            response = await self._client.post(url, params=params, json=body)
        except httpx.HTTPError as exc:
            return DeliveryResult(False, f"{type(exc).__name__}")
        if 200 <= response.status_code < 300:
            return DeliveryResult(True)
        # The body may echo the tracker (personal data): keep only the status code.
        return DeliveryResult(False, f"HTTP {response.status_code}")


class Dispatcher:
    """The background loop: claim due rows, deliver them, record the outcome."""

    def __init__(self, engine: Engine, settings: BackendSettings, client: httpx.AsyncClient | None = None) -> None:
        self.store = OutboxStore(engine, settings)
        self._settings = settings
        self._client = client
        self._stop = asyncio.Event()

    async def run_once(self, notifier: RasaNotifier, max_rows: int = 20) -> int:
        """Delivers what is due now (up to ``max_rows``); returns how many rows were attempted.

        Rows are claimed one at a time, right before their delivery, so a claim's lease
        only has to cover one delivery however long the queue is.
        """
        attempted = 0
        while attempted < max_rows:
            claimed = await asyncio.to_thread(self.store.claim_due, 1)
            if not claimed:
                break
            attempted += 1
            await self._deliver(notifier, claimed[0])
        return attempted

    async def _deliver(self, notifier: RasaNotifier, item: Claimed) -> None:
        if item.sender_id is None:  # erased or anonymized since it was queued
            await asyncio.to_thread(self.store.mark_cancelled, item, "no recipient")
            return
        result = await notifier.send(item)
        if result.deferred:
            await asyncio.to_thread(self.store.mark_deferred, item, result.error or "deferred")
            logger.info("notification %d %s", item.outbox_id, result.error)
        elif result.ok:
            if not await asyncio.to_thread(self.store.mark_delivered, item):
                logger.warning("notification %d delivered after its lease expired", item.outbox_id)
            logger.info("notification %d delivered attempt=%d", item.outbox_id, item.attempts + 1)
        else:
            await asyncio.to_thread(self.store.mark_failed, item, result.error or "error")
            logger.info(
                "notification %d not delivered attempt=%d error=%s", item.outbox_id, item.attempts + 1, result.error
            )

    async def run(self) -> None:
        # httpx logs every request URL at INFO, and ours contain the citizen's channel id.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
        timeout = httpx.Timeout(self._settings.notify_timeout_seconds, connect=5.0)
        client = self._client or httpx.AsyncClient(timeout=timeout)
        notifier = RasaNotifier(client, self._settings)
        try:
            while not self._stop.is_set():
                try:
                    attempted = await self.run_once(notifier)
                except Exception:  # a database hiccup must not kill the loop
                    logger.exception("notification dispatcher round failed")
                    attempted = 0
                if attempted == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), timeout=self._settings.notify_poll_seconds)
        finally:
            if self._client is None:
                await client.aclose()

    def stop(self) -> None:
        self._stop.set()
