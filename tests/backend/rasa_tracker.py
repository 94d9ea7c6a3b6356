"""Writes and reads conversations with Rasa's own SQLTrackerStore (run with .venv-rasa's Python).

The privacy tests need Rasa's real ``events`` table, written by Rasa itself, not a
hand-made imitation of its schema. Usage (JSON on stdin / stdout):

    python rasa_tracker.py write DB  <<< '{"sender": "tg-ana", "text": "...", "days_ago": 100}'
    python rasa_tracker.py senders DB      # prints the sender ids Rasa still finds
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def _main(command: str, db: str) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=db)
    if command == "write":
        spec = json.loads(sys.stdin.read())
        when = time.time() - float(spec.get("days_ago", 0)) * 86400
        tracker = DialogueStateTracker(spec["sender"], slots=[])
        tracker.update(ActionExecuted("action_listen", timestamp=when))
        tracker.update(UserUttered(spec["text"], {"name": "open_case", "confidence": 1.0}, timestamp=when + 1))
        tracker.update(BotUttered("¿Me confirma los datos?", timestamp=when + 2))
        await store.save(tracker)
    elif command == "senders":
        senders = []
        for key in sorted(await store.keys()):
            tracker = await store.retrieve(key)
            if tracker is not None and tracker.events:
                senders.append(key)
        print(json.dumps(senders))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2]))
