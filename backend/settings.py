"""Settings for the case store and the staff API.

One settings object per process, read from ``VENTANILLA_*`` environment variables.
Defaults are the embedded, single-machine ones (SQLite under ``var/``), so that
``make run`` works with no configuration; ``VENTANILLA_ENV=production`` refuses
those defaults for anything that would be unsafe in front of citizens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEV_CASE_HASH_KEY = "dev-only-case-hash-key-change-me"


class VentanillaSettings(BaseSettings):
    """Base class: the environment name and the production guard."""

    model_config = SettingsConfigDict(env_prefix="VENTANILLA_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    var_dir: Path = DEFAULT_VAR_DIR

    def _production_problems(self) -> list[str]:
        """Names the settings left at development defaults; subclasses add theirs."""
        return []

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> "VentanillaSettings":
        if self.env == "production":
            problems = self._production_problems()
            if problems:
                raise ValueError(
                    "VENTANILLA_ENV=production but these settings are left at development "
                    "defaults: " + "; ".join(problems)
                )
        return self


class StoreSettings(VentanillaSettings):
    """Where cases live and how document numbers are protected."""

    database_url: str = ""
    case_hash_key: str = DEV_CASE_HASH_KEY
    case_code_prefix: str = "EXP"

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``var/``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'cases.db'}"

    def _production_problems(self) -> list[str]:
        problems = super()._production_problems()
        if not self.database_url or self.database_url.startswith("sqlite"):
            problems.append("VENTANILLA_DATABASE_URL must point to PostgreSQL")
        if self.case_hash_key == DEV_CASE_HASH_KEY or len(self.case_hash_key) < 32:
            problems.append("VENTANILLA_CASE_HASH_KEY must be a secret of at least 32 characters")
        return problems


class BackendSettings(StoreSettings):
    """The staff API process."""

    backend_host: str = "127.0.0.1"
    backend_port: int = 8000
    # Comma-separated "token:role" pairs, e.g. "s3cr3t:admin,0ther:officer".
    staff_tokens: str = ""

    def _production_problems(self) -> list[str]:
        problems = super()._production_problems()
        if not self.staff_tokens:
            problems.append("VENTANILLA_STAFF_TOKENS must list at least one token")
        return problems
