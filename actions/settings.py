"""Settings of the action server process (one object, ``VENTANILLA_*`` variables).

Everything the actions read from the environment is validated here, when the
server starts: a typo in the office hours, the time zone or the document profile
stops start-up with a message naming the variable, instead of surfacing as a
"technical problem" on the first citizen who asks for a person or opens a case.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, field_validator

from actions.documents import profile_rule
from actions.office_hours import SupportSettings
from actions.route_rule import RoutingSettings
from backend.settings import StoreSettings
from knowledge_base.settings import SearchSettings


class ActionSettings(StoreSettings, SupportSettings):
    """Cases (``StoreSettings``), office hours and time zone (``SupportSettings``), and the rest."""

    action_host: str = "127.0.0.1"
    action_port: int = 5055
    # Action calls running at once, each on its own worker thread off the event loop
    # (actions/offload.py). Kept below the SQL pool's 10 connections.
    action_threads: int = Field(default=8, ge=1, le=64)
    # "sql": the actions write cases directly; "http": through the backend's case API.
    case_repository: Literal["sql", "http"] = "sql"
    backend_url: str = "http://127.0.0.1:8000"
    # Document number rules: "generic" (6-12 letters/digits) or a country profile.
    document_profile: str = "generic"
    kb: SearchSettings = Field(default_factory=SearchSettings)
    # Intent vs knowledge base (VENTANILLA_ROUTE_*): actions/route_rule.py.
    routing: RoutingSettings = Field(default_factory=RoutingSettings)

    @field_validator("document_profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        profile_rule(value)  # raises UnknownProfile (a ValueError) naming the valid ones
        return value.strip().lower()


def describe_errors(exc: ValidationError) -> str:
    """One line per wrong setting, named as the variable the staff wrote in ``.env``."""
    lines = []
    for error in exc.errors():
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        loc = [str(part) for part in error.get("loc", ())]
        if loc and exc.title == ActionSettings.__name__:
            lines.append(f"  VENTANILLA_{'_'.join(loc).upper()}: {message}")
        elif loc:
            lines.append(f"  {exc.title}.{'.'.join(loc)}: {message}")
        else:
            lines.append(f"  {message}")
    return "\n".join(lines)


def load_settings() -> ActionSettings:
    """The validated settings, or ``SystemExit`` with a readable message (no traceback)."""
    try:
        return ActionSettings()
    except ValidationError as exc:
        raise SystemExit(
            "Configuración inválida del servidor de acciones (revise .env y vuelva a iniciar):\n" + describe_errors(exc)
        ) from None
