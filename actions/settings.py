"""Settings of the action server process (one object, ``VENTANILLA_*`` variables)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from backend.settings import StoreSettings
from knowledge_base.settings import SearchSettings


class ActionSettings(StoreSettings):
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    # "sql": the actions write cases directly; "http": through the backend's case API.
    case_repository: Literal["sql", "http"] = "sql"
    backend_url: str = "http://127.0.0.1:8000"
    # Document number rules: "generic" (6-12 letters/digits) or a country profile.
    document_profile: str = "generic"
    kb: SearchSettings = Field(default_factory=SearchSettings)
