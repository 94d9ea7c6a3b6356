"""A citizen's analytics rows under export, erasure and retention, through the real console scripts.

The analytics conversations are recorded by the real ``Recorder`` (the citizen's channel id
is the one their cases keep); the dashboard's daily counters must not move.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend.analytics.models import AnalyticsConversation, AnalyticsDaily, AnalyticsEvent
from backend.analytics.recorder import Recorder
from backend.hashing import keyed_hash
from backend.repository import SqlCaseRepository
from tests.analytics.events import Script
from tests.backend.conftest import HASH_KEY, Database, new_case
from tests.backend.test_privacy import _run

pytestmark = [pytest.mark.usefixtures("tracker_db"), pytest.mark.slow]


def _chat(engine: Engine, sender: str, start: float) -> None:
    script = Script(sender, start, channel="telegram").session().answered()
    script.session().abstained()  # a second conversation of the same citizen
    with Session(engine) as session, session.begin():
        Recorder(HASH_KEY).record(session, script.events)


def _daily(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                AnalyticsDaily.day,
                AnalyticsDaily.channel,
                AnalyticsDaily.metric,
                AnalyticsDaily.key,
                AnalyticsDaily.value,
            ).order_by(AnalyticsDaily.id)
        )
        return [tuple(row) for row in rows]


def _hashes(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(AnalyticsConversation.sender_hash).order_by(AnalyticsConversation.id)))


def test_export_lists_and_erase_unlinks_the_citizens_analytics_only(
    repo: SqlCaseRepository, engine: Engine, database: Database
) -> None:
    repo.open_case(new_case(1, document="30.123.456", sender="tg-ana", channel="telegram"))
    repo.open_case(new_case(2, document="27999888", sender="tg-bob", channel="telegram"))
    now = datetime.now(UTC).timestamp() - 600
    _chat(engine, "tg-ana", now)
    _chat(engine, "tg-bob", now + 60)
    ana, bob = keyed_hash(HASH_KEY, "analytics", "tg-ana"), keyed_hash(HASH_KEY, "analytics", "tg-bob")
    assert _hashes(engine) == [ana, ana, bob, bob]

    exported = json.loads(_run("ventanilla-privacy", database, "export", stdin="30123456\n").stdout)
    mine = exported["estadisticas_del_asistente"]
    assert [c["canal"] for c in mine] == ["telegram", "telegram"]
    kinds = [e["tipo"] for c in mine for e in c["eventos"]]
    assert "answer" in kinds and "abstention" in kinds, kinds
    assert "tg-ana" not in json.dumps(exported["estadisticas_del_asistente"])

    before = _daily(engine)
    with Session(engine) as session:
        events_before = session.scalar(select(func.count(AnalyticsEvent.id)))
    result = _run("ventanilla-privacy", database, "erase", "--yes", stdin="30123456\n")
    assert result.returncode == 0, result.stderr
    after = _hashes(engine)
    assert ana not in after and after[2:] == [bob, bob]  # another citizen: untouched
    assert after[0] != after[1] and all(h.startswith("borrado-") for h in after[:2])  # not linked to each other
    assert _daily(engine) == before  # the dashboard's figures do not change
    with Session(engine) as session:
        assert session.scalar(select(func.count(AnalyticsEvent.id))) == events_before  # anonymous statistics stay
    again = json.loads(_run("ventanilla-privacy", database, "export", stdin="30123456\n").stdout)
    assert again["estadisticas_del_asistente"] == []


def test_retention_deletes_old_raw_events_and_idle_conversations_not_the_daily_figures(
    engine: Engine, database: Database
) -> None:
    now = datetime.now(UTC)
    _chat(engine, "tg-old", (now - timedelta(days=120)).timestamp())
    _chat(engine, "tg-new", (now - timedelta(days=2)).timestamp())
    before = _daily(engine)
    with Session(engine) as session:
        total = session.scalar(select(func.count(AnalyticsEvent.id))) or 0
        old = session.scalar(select(func.count(AnalyticsEvent.id)).where(AnalyticsEvent.at < now - timedelta(days=90)))
    assert old and old < total

    dry = json.loads(_run("ventanilla-retention", database, "--dry-run").stdout)
    assert (dry["dias_estadisticas"], dry["eventos_de_estadisticas"], dry["conversaciones_de_estadisticas"]) == (
        90,
        old,
        2,
    )
    with Session(engine) as session:
        assert session.scalar(select(func.count(AnalyticsEvent.id))) == total

    result = _run("ventanilla-retention", database)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["eventos_de_estadisticas"] == old
    assert _hashes(engine) == [keyed_hash(HASH_KEY, "analytics", "tg-new")] * 2
    with Session(engine) as session:
        assert session.scalar(select(func.count(AnalyticsEvent.id))) == total - old
    assert _daily(engine) == before

    # The setting and the option: 1 day keeps nothing of tg-new's chats (2 days old).
    short = _run("ventanilla-retention", database, extra_env={"VENTANILLA_ANALYTICS_RETENTION_DAYS": "1"})
    assert json.loads(short.stdout)["conversaciones_de_estadisticas"] == 2
    refused = _run("ventanilla-retention", database, "--analytics-days", "-1")
    assert refused.returncode != 0 and "negativos" in refused.stderr
    assert _daily(engine) == before
