"""The heavy objects the actions share: the search index, the case and interaction repositories.

The one way actions reach their services. ``VENTANILLA_CASE_REPOSITORY`` chooses for both
repositories: ``sql`` opens the case database directly, ``http`` talks to the backend's
internal APIs (or an agency's own service) and never opens the database.

Created once per process on first use (or at server start, see ``actions.server``),
never at import time, so importing an action module stays cheap and side-effect free.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import yaml

from actions.settings import ActionSettings
from backend.interactions import InteractionRepository
from backend.repository import CaseRepository
from knowledge_base.search import IndexHolder


@dataclass
class Services:
    settings: ActionSettings
    search: IndexHolder
    cases: CaseRepository
    titles: dict[str, str]  # procedure id -> title, from the content files
    interactions: InteractionRepository


_lock = threading.Lock()
_services: Services | None = None


def _procedure_titles(settings: ActionSettings) -> dict[str, str]:
    titles = {}
    for path in sorted(settings.kb.content_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and "id" in data and "title" in data:
            titles[str(data["id"])] = str(data["title"])
    return titles


def _make_repositories(settings: ActionSettings) -> tuple[CaseRepository, InteractionRepository]:
    """The case and interaction repositories of the configured kind (one engine for both with SQL)."""
    if settings.case_repository == "http":
        from backend.http_interactions import HttpInteractionRepository
        from backend.http_repository import HttpCaseRepository

        token = settings.case_service_token
        interactions = HttpInteractionRepository(settings.backend_url, token=token)
        interactions.case_code_prefix = settings.case_code_prefix
        return HttpCaseRepository(settings.backend_url, token=token), interactions
    from backend.db import create_schema, make_engine
    from backend.interactions import InteractionStore
    from backend.repository import SqlCaseRepository

    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    prefix = settings.case_code_prefix
    return (
        SqlCaseRepository(engine, hash_key=settings.case_hash_key, code_prefix=prefix),
        InteractionStore(engine, hash_key=settings.case_hash_key, case_code_prefix=prefix),
    )


def warm_up(holder: IndexHolder) -> None:
    """Loads the index and runs one real search before the server says it is ready.

    The first search loads spaCy's lemmatizer tables and the embedder's query path
    lazily: 4-8 s on a busy machine. Paid on a citizen's first question, that is more
    than the action guard's deadline (connectors/action_guard.py), so the first
    citizen after every start or restart got the technical-problem apology instead of
    an answer. ``/health`` reports ready only after this has run.
    """
    holder.searcher().search("requisitos del trámite", top_k=1)


def build_services(settings: ActionSettings | None = None) -> Services:
    from knowledge_base.embedders import make_embedder
    from knowledge_base.embedders.serial import SerialEmbedder

    settings = settings or ActionSettings()
    # Actions search from several worker threads (actions/offload.py): one embedding at a time.
    holder = IndexHolder(settings.kb, SerialEmbedder(make_embedder(settings.kb.embedder, settings.kb.model)))
    warm_up(holder)  # fail (and be slow) at start-up, not on a citizen's first question
    cases, interactions = _make_repositories(settings)
    return Services(settings, holder, cases, _procedure_titles(settings), interactions)


def get_services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services()
    return _services


def set_services(services: Services) -> None:
    """Installs prebuilt services (the server does this at start-up)."""
    global _services
    _services = services
