"""Rasa's SQL tracker store, streaming new events to the broker without re-reading the tracker.

With an event broker, Rasa 3.6's ``TrackerStore.stream_events`` (called by ``save`` inside
every turn) loads the stored tracker again, rebuilding it event by event, only to learn how
many of the turn's events are new: about 4 ms of CPU per turn on the test model, growing
with the conversation (bench/analytics_side_by_side.py). The SQL store already knows that
number from one ``count`` query (``_additional_events``, which ``save`` itself uses to insert
only the new rows): this subclass streams exactly those events, the same ones Rasa would,
in one transaction when the broker can take them at once (the embedded SQL broker's
``publish_many``).
Everything else (tables, queries, URLs, SQLite or PostgreSQL) is Rasa's ``SQLTrackerStore``.
bot/endpoints.yml names it as the tracker store's ``type``.
"""

from __future__ import annotations

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


class StreamingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose ``stream_events`` counts the stored events instead of loading them."""

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        elif new_events:  # the embedded SQL broker: one commit for the turn's events
            publish_many([{"sender_id": tracker.sender_id, **event.as_dict()} for event in new_events])
