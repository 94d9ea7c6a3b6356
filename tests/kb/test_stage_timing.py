"""The action server's per-stage histograms (actions/stage_timing.py) see real calls.

bench/load.py's per-stage breakdown reads these series; a wrapper that stopped timing,
swallowed a return value or an error, or mislabelled a stage would make it lie.
"""

from __future__ import annotations

import time

import pytest

from actions.metrics import ActionMetrics
from actions.services import Services
from actions.settings import ActionSettings
from actions.stage_timing import instrument
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.search import IndexHolder
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake


class SlowCases:
    """A case store whose status lookup takes 20 ms and whose opening fails."""

    prefix = "TRM"

    def status_for_citizen(self, code: str, verification: str, *, sender_id: str = "") -> str:
        time.sleep(0.02)
        return f"{code}:{verification}:{sender_id}"

    def open_case(self, new_case: object) -> str:
        raise ValueError("no se puede guardar")


def sample(metrics: ActionMetrics, suffix: str, stage: str, operation: str) -> float:
    value = metrics.registry.get_sample_value(
        f"ventanilla_action_stage_seconds_{suffix}", {"stage": stage, "operation": operation}
    )
    return value or 0.0


def test_search_reports_embedding_and_index_search_apart(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    metrics = ActionMetrics()
    holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=0.0)
    services = instrument(Services(ActionSettings(kb=kb_settings), holder, None, {}, None), metrics.stage)  # type: ignore[arg-type]

    result = services.search.searcher().search("requisitos del pasaporte")
    services.search.searcher().search("requisitos del pasaporte")  # the cached embedding still counts a stage

    assert result.closest, "the wrapped search still answers"
    assert sample(metrics, "count", "embedding", "search") == 2
    assert sample(metrics, "count", "index_search", "search") == 2
    assert sample(metrics, "sum", "index_search", "search") > 0
    assert sample(metrics, "count", "database", "search") == 0


def test_store_calls_are_timed_under_their_method_name_even_when_they_fail(kb_settings: SearchSettings) -> None:
    metrics = ActionMetrics()
    holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=0.0)
    services = instrument(Services(ActionSettings(kb=kb_settings), holder, SlowCases(), {}, SlowCases()), metrics.stage)  # type: ignore[arg-type]

    assert services.cases.status_for_citizen("TRM-1", "1234", sender_id="s") == "TRM-1:1234:s"
    with pytest.raises(ValueError, match="no se puede guardar"):
        services.cases.open_case(object())  # type: ignore[arg-type]

    assert sample(metrics, "count", "database", "status_for_citizen") == 1
    assert sample(metrics, "sum", "database", "status_for_citizen") >= 0.02
    assert sample(metrics, "count", "database", "open_case") == 1
    assert services.cases.prefix == "TRM"  # plain attributes pass through untimed  # type: ignore[attr-defined]
