"""The analytics consumer, SIGKILLed at an exact point of its ``kill_at``-th batch (fault tests).

``python consumer_dies_mid_batch.py before_commit|after_commit KILL_AT`` with the consumer's
usual environment. ``before_commit``: the batch's rows are written (flushed) in the open
transaction, then the process dies; ``after_commit``: the batch is committed, then the process
dies before acking it. Either way RabbitMQ redelivers the batch to the next consumer.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from sqlalchemy.orm import Session

from backend.analytics.consumer import Consumer
from backend.analytics.recorder import Recorder
from backend.analytics.settings import AnalyticsSettings


def main(mode: str, kill_at: int) -> None:
    batches = [0]
    record, commit_and_count = Recorder.record, Consumer._record

    def recorded(self: Recorder, session: Session, events: Any) -> int:
        made = record(self, session, events)
        batches[0] += 1
        if mode == "before_commit" and batches[0] == kill_at:
            session.flush()  # the rows are in the database's open transaction
            os.kill(os.getpid(), signal.SIGKILL)
        return made

    def committed(self: Consumer, events: list[dict[str, Any]]) -> None:
        commit_and_count(self, events)
        if mode == "after_commit" and batches[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # committed, not acked

    Recorder.record = recorded  # type: ignore[method-assign]
    Consumer._record = committed  # type: ignore[method-assign]
    Consumer(AnalyticsSettings()).run()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
