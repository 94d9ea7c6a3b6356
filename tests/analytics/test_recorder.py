"""Raw Rasa events -> analytics rows and daily counters (SQLite, real migrations)."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.analytics import reply_times
from backend.analytics.models import AnalyticsConversation, AnalyticsEvent
from backend.analytics.queries import figures
from backend.analytics.recorder import Recorder
from tests.analytics.events import Script

DAY = date(2026, 11, 20)
START = 1795132800.0  # 2026-11-20 00:00 UTC


def record(sessions: sessionmaker[Session], events: list[dict[str, object]]) -> None:
    with sessions() as session:
        Recorder("k" * 32).record(session, events)
        session.commit()


def test_a_scripted_day_gives_exact_figures(sessions: sessionmaker[Session]) -> None:
    helped = Script("citizen-1", START).session().answered()
    helped.user("/affirm", "affirm").action("action_save_kb_feedback").bot("utter_kb_helpful_thanks")
    lost = Script("citizen-2", START + 100).session().abstained()
    handed = Script("citizen-3", START + 200, channel="telegram").session()
    handed.user("quiero hablar con una persona", "human_handoff").action("action_human_handoff")
    handed.bot("utter_ask_leave_message").slot("handoff_reference", "H-1234")
    case = Script("citizen-4", START + 300).session()
    case.user("confirmo", "affirm").action("action_submit_case").bot("utter_case_created").slot("case_code", "EXP-1")
    rated = Script("citizen-5", START + 400).session()
    rated.user("le doy 4 estrellas, me llamo Ana Pérez", "feedback").action("action_save_feedback")
    rated.bot("utter_rating_thanks")
    recovered = Script("citizen-6", START + 500).session().abstained().answered()
    fallback = Script("citizen-7", START + 600).session().user("asdf", "nlu_fallback", 0.2)
    fallback.action("action_default_fallback").bot("utter_default")
    everything = [e for s in (helped, lost, handed, case, rated, recovered, fallback) for e in s.events]
    record(sessions, everything)

    with sessions() as session:
        result = figures(session, DAY, DAY)
        telegram = figures(session, DAY, DAY, channel="telegram")
        kinds = [e.kind for e in session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id))]
    assert result.conversations == 7
    assert result.total("contained") == 4  # helped, case, rated, recovered
    assert result.total("messages_in") == 9 and result.total("reply_count") == 9
    assert result.total("answers") == 2 and result.total("abstentions") == 2
    assert result.total("handoffs") == 1 and result.total("cases_opened") == 1
    assert result.total("fallbacks") == 2  # the NLU's and the policy's, same turn
    assert result.procedures == [("pasaporte-emision", 2)]
    assert result.helpful == {True: 1} and result.ratings == {4: 1}
    assert result.per_channel == {"rest": 6, "telegram": 1}
    assert telegram.conversations == 1 and telegram.total("handoffs") == 1 and telegram.total("contained") == 0
    assert result.reply_buckets == {reply_times.bucket_of(350): 9}  # every reply came 350 ms after the message
    assert result.reply_median_ms == pytest.approx(350.0, rel=0.02)
    assert kinds.count("conversation_started") == 7


def test_replayed_events_are_not_counted_twice(sessions: sessionmaker[Session]) -> None:
    """RabbitMQ redelivers a batch whose ack was lost: same events, same figures."""
    script = Script("citizen-1", START).session().answered().abstained()
    record(sessions, script.events[:6])
    record(sessions, script.events)  # the first six again, then the rest
    record(sessions, script.events[-3:])
    with sessions() as session:
        result = figures(session, DAY, DAY)
        assert session.scalar(select(AnalyticsConversation.open_failure)) is True
    assert result.conversations == 1 and result.total("answers") == 1 and result.total("abstentions") == 1
    assert result.total("messages_in") == 2 and result.total("contained") == 0


def test_a_new_session_is_a_new_conversation(sessions: sessionmaker[Session]) -> None:
    first = Script("citizen-1", START).session().answered()
    second = Script("citizen-1", START + 7200).session().abstained()
    record(sessions, first.events + second.events)
    with sessions() as session:
        result = figures(session, DAY, DAY)
    assert result.conversations == 2 and result.total("contained") == 1


def test_no_text_or_slot_value_is_stored(sessions: sessionmaker[Session]) -> None:
    script = Script("30123456", START).session()
    script.user("mi dni es 30123456 y mi mail ana@correo.com", "inform").action("action_listen")
    script.slot("document_number", "30123456").slot("handoff_reference", "H-99").bot("utter_ok")
    record(sessions, script.events)
    with sessions() as session:
        dump = " ".join(
            str(vars(row))
            for model in (AnalyticsEvent, AnalyticsConversation)
            for row in session.scalars(select(model))
        )
    assert "30123456" not in dump and "correo" not in dump and "H-99" not in dump


def exact(times: list[int], q: float) -> int:
    """The nearest-rank q-quantile: the ceil(q * n)-th smallest."""
    return sorted(times)[math.ceil(q * len(times)) - 1]


def test_every_time_is_within_two_percent_of_its_bucket() -> None:
    assert reply_times.quantile({}, 0.5) is None
    assert reply_times.value_of(reply_times.bucket_of(0)) == 0.0
    for ms in [*range(1, 5000), 9_999, 65_432, 3_600_000]:
        assert abs(reply_times.value_of(reply_times.bucket_of(ms)) - ms) <= 0.02 * ms + 1e-9, ms
    assert reply_times.bucket_of(100) < reply_times.bucket_of(105)  # 5 % apart: never one bucket (4.1 % wide)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_median_and_p95_match_the_exact_percentiles_of_a_known_set(sessions: sessionmaker[Session], seed: int) -> None:
    """Reply times recorded through the recorder; the dashboard's figures vs. the exact ones."""
    rng = random.Random(seed)
    times: dict[str, list[int]] = {"rest": [], "telegram": []}
    events: list[dict[str, object]] = []
    for n, channel in enumerate(["rest", "telegram"] * 3):  # 3 conversations per channel, two days
        script = Script(f"citizen-{seed}-{n}", START + (n % 2) * 86_400 + n * 3_000, channel=channel).session()
        for _ in range(80):
            ms = int(rng.lognormvariate(math.log(300), 1.1)) + 100 * (n % 3)  # a long right tail
            script.user("hola", "greet").action("utter_greet").bot("utter_greet", step=ms / 1000)
            times[channel].append(round((script.events[-1]["timestamp"] - script.events[-3]["timestamp"]) * 1000))
        events.extend(script.events)
    record(sessions, events)
    every = times["rest"] + times["telegram"]
    with sessions() as session:
        cases = [(figures(session, DAY, date(2026, 11, 21)), every)]
        cases += [(figures(session, DAY, date(2026, 11, 21), channel=c), times[c]) for c in times]
    for result, known in cases:
        assert result.total("reply_count") == len(known)
        for shown, q in ((result.reply_median_ms, 0.5), (result.reply_p95_ms, 0.95)):
            assert shown is not None
            assert abs(shown - exact(known, q)) <= 0.02 * exact(known, q) + 1e-9, (q, shown, exact(known, q))
