"""Hot reload: the holder switches to a new index version while threads are searching, failing none."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from knowledge_base import search as search_module
from knowledge_base.embedders.fake import FakeEmbedder
from knowledge_base.index import CURRENT, KEEP_VERSIONS, current_version
from knowledge_base.search import IndexHolder
from knowledge_base.settings import SearchSettings
from tests.kb.conftest import build_fake

QUESTIONS = (
    "me robaron la cedula",
    "vacuna del perro",
    "pagar el predial",
    "pasaporte para un menor",
    "renovar licencia",
)


def test_new_versions_are_picked_up_while_threads_search(kb_settings: SearchSettings) -> None:
    first = build_fake(kb_settings).name
    holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=0.0)
    assert holder.searcher().index.version == first
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: list[set[str]] = [set() for _ in range(4)]
    answered = [0] * 4

    def worker(n: int) -> None:
        i = 0
        while not stop.is_set():
            try:
                result = holder.searcher().search(QUESTIONS[i % len(QUESTIONS)])
                assert result.closest and result.index_version
                seen[n].add(result.index_version)
                answered[n] += 1
            except BaseException as exc:  # noqa: BLE001 - any failure in flight fails the test
                errors.append(exc)
                return
            i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        published = [
            build_fake(kb_settings).name for _ in range(KEEP_VERSIONS + 1)
        ]  # old versions get pruned meanwhile
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(published[-1] in s for s in seen):
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert errors == []
    assert all(count > 0 for count in answered)
    assert all(first in s and published[-1] in s for s in seen), seen
    assert holder.searcher().index.version == published[-1] == current_version(kb_settings.index_dir)


def test_a_searcher_in_flight_survives_its_version_being_pruned(kb_settings: SearchSettings) -> None:
    build_fake(kb_settings)
    holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=0.0)
    in_flight = holder.searcher()
    for _ in range(KEEP_VERSIONS + 1):
        build_fake(kb_settings)
    assert not (kb_settings.index_dir / in_flight.index.version).exists()
    assert in_flight.search("me robaron la cedula").closest[0].procedure_id == "documento-identidad-duplicado"
    assert holder.searcher().index.version != in_flight.index.version


def test_a_broken_new_version_keeps_the_old_one_serving(
    kb_settings: SearchSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = build_fake(kb_settings).name
    holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=0.0)
    holder.searcher()
    broken = kb_settings.index_dir / "v-29990101T000000000000-broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}")
    (kb_settings.index_dir / CURRENT).write_text(broken.name)
    loads = []
    real_load = search_module.load_index
    monkeypatch.setattr(search_module, "load_index", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    for _ in range(5):
        assert holder.searcher().index.version == good
    assert len(loads) == 1  # the broken version is not reloaded on every request
    fixed = build_fake(kb_settings).name
    assert holder.searcher().index.version == fixed


def test_checks_are_rate_limited(kb_settings: SearchSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    build_fake(kb_settings)
    holder = IndexHolder(kb_settings, FakeEmbedder(), check_every=60.0)
    first = holder.searcher()
    build_fake(kb_settings)
    assert holder.searcher() is first  # not checked again within a minute
    real_monotonic = time.monotonic
    monkeypatch.setattr(search_module.time, "monotonic", lambda: real_monotonic() + 120)
    assert holder.searcher() is not first


def test_no_index_at_start_is_an_error(tmp_path: Path) -> None:
    settings = SearchSettings(index_dir=tmp_path / "vacio", embedder="fake")
    with pytest.raises(FileNotFoundError):
        IndexHolder(settings, FakeEmbedder()).searcher()
