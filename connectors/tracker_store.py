"""Rasa's SQL tracker store, streaming new events to the broker without re-reading the tracker.

With an event broker, Rasa 3.6's ``TrackerStore.stream_events`` (called by ``save`` inside
every turn) loads the stored tracker again, rebuilding it event by event, only to learn
which of the turn's events are new: about 4 ms of CPU per turn on the test model, growing
with the conversation (bench/analytics_side_by_side.py, bench/RESULTS.md). ``save`` finds
the same events anyway, one ``count`` of the stored rows later (``_additional_events``, to
insert only the new rows): this subclass publishes exactly those, just before they are
stored, and skips the re-read. The events and their order are the ones Rasa streams
(tests/analytics/test_streaming_store.py); the embedded SQL broker takes them in one
transaction (``publish_many``). Tables, queries, URLs, SQLite or PostgreSQL: Rasa's
``SQLTrackerStore``. bot/endpoints.yml names it as the tracker store's ``type``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker


class StreamingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that streams the events ``save`` is about to store."""

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Nothing here: ``_additional_events`` publishes the new events inside ``save``."""

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        new_events = list(super()._additional_events(session, tracker))
        if self.event_broker is not None and new_events:
            self.publish_new(tracker.sender_id, new_events)
        return iter(new_events)

    def publish_new(self, sender_id: str, events: list[Event]) -> None:
        """The bodies Rasa's ``_stream_new_events`` publishes, at once when the broker can."""
        bodies = [{"sender_id": sender_id, **event.as_dict()} for event in events]
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is not None:
            publish_many(bodies)
            return
        for body in bodies:
            self.event_broker.publish(body)
