"""Settings for the case store, the staff API and the notification dispatcher.

One settings object per process, read from ``VENTANILLA_*`` environment variables.
Defaults are the embedded, single-machine ones (SQLite under ``var/``), so that
``make run`` works with no configuration; ``VENTANILLA_ENV=production`` refuses
those defaults for anything that would be unsafe in front of citizens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEV_CASE_HASH_KEY = "dev-only-case-hash-key-change-me"
DEV_CASE_SERVICE_TOKEN = "dev-only-case-service-token-change-me"  # noqa: S105 - refused outside env=dev
DEV_CONSOLE_SECRET = "dev-only-console-secret-change-me"  # noqa: S105 - refused outside env=dev


class VentanillaSettings(BaseSettings):
    """Base class: the environment name and the production guard."""

    model_config = SettingsConfigDict(env_prefix="VENTANILLA_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    var_dir: Path = DEFAULT_VAR_DIR

    def _production_problems(self) -> list[str]:
        """Names the settings left at development defaults; subclasses add theirs."""
        return []

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> VentanillaSettings:
        if self.env == "production":
            problems = self._production_problems()
            if problems:
                raise ValueError(
                    "VENTANILLA_ENV=production but these settings are left at development "
                    "defaults: " + "; ".join(problems)
                )
        return self


class StoreSettings(VentanillaSettings):
    """Where cases live, how document numbers are protected, how the case API is reached."""

    database_url: str = ""
    case_hash_key: str = DEV_CASE_HASH_KEY
    case_code_prefix: str = "EXP"
    # Shared secret between the action server (HttpCaseRepository) and the backend's
    # internal case API (/internal/cases...).
    case_service_token: str = DEV_CASE_SERVICE_TOKEN
    # Closed cases lose their personal data this many days after closing (ventanilla-retention).
    retention_days: int = 365
    # Rasa's conversation store (the same variables bot/endpoints.yml gives Rasa), and how
    # long an idle conversation is kept there before ventanilla-retention deletes it.
    tracker_dialect: str = "sqlite"
    tracker_db: str = ""
    # A full URL (postgresql://...) of Rasa's store; when set it wins over dialect/db, as in Rasa.
    tracker_url: str = ""
    conversation_retention_days: int = 90
    # Unanswered questions (masked, but still what a citizen typed) are deleted this many days
    # after they were recorded, whatever their state (ventanilla-retention).
    unanswered_retention_days: int = 90
    # Below this NLU confidence a turn is listed for the intent review (the action server's
    # knowledge answer and the broker tap of backend.unanswered.from_events both use it).
    unanswered_low_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    # Raw analytics events (and analytics conversations idle as long) are deleted after this
    # many days by ventanilla-retention; the dashboard's daily counters stay.
    analytics_retention_days: int = 90

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``var/``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'cases.db'}"

    @property
    def effective_tracker_url(self) -> str:
        """The SQLAlchemy URL of Rasa's store, chosen the way bot/endpoints.yml makes Rasa choose it."""
        from backend.conversations import tracker_store_url

        return self.tracker_url or tracker_store_url(self.tracker_dialect, self.effective_tracker_db)

    @property
    def effective_tracker_db(self) -> str:
        """Rasa's tracker database: the configured one, or the embedded SQLite file under ``var/``."""
        return self.tracker_db or str(self.var_dir / "rasa_tracker.db")

    def _production_problems(self) -> list[str]:
        problems = super()._production_problems()
        if not self.database_url or self.database_url.startswith("sqlite"):
            problems.append("VENTANILLA_DATABASE_URL must point to PostgreSQL")
        if self.case_hash_key == DEV_CASE_HASH_KEY or len(self.case_hash_key) < 32:
            problems.append("VENTANILLA_CASE_HASH_KEY must be a secret of at least 32 characters")
        return problems


class BackendSettings(StoreSettings):
    """The backend process: staff API, internal case API and notification dispatcher."""

    backend_host: str = "127.0.0.1"
    backend_port: int = 8000
    # Comma-separated "token:role" pairs (roles: officer, admin), optionally
    # "token:role:name" to give the person a readable name in the audit log.
    staff_tokens: str = ""

    # --- notifications (outbox -> Rasa trigger_intent) ---
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's --auth-token, when the Rasa server is started with one.
    rasa_token: str = ""
    notify_enabled: bool = True
    notify_poll_seconds: float = 2.0
    notify_backoff_base_seconds: float = 5.0
    notify_backoff_max_seconds: float = 600.0
    # After this many failed attempts a notification is parked as "failed" (admins can retry it).
    notify_max_attempts: int = 100
    # A row being delivered is reclaimed after this long (the process died mid-delivery).
    notify_lease_seconds: float = 90.0
    notify_timeout_seconds: float = 20.0
    # While the citizen is in the middle of a form (or a person has taken the conversation
    # over), a notification waits this long and checks again, for at most notify_max_defer_seconds
    # after the status change; then it is delivered anyway.
    notify_defer_seconds: float = 30.0
    notify_max_defer_seconds: float = 1800.0
    # Channels that cannot push a message on their own (request/response only).
    notify_skip_channels: str = "rest,cmdline"

    # --- live agents (backend.livechat.upkeep, every handoff_upkeep_seconds; 0: off) ---
    # An open live request nobody takes within this long becomes a left message (the citizen is told).
    handoff_expire_minutes: float = Field(default=30.0, gt=0)
    # Rasa's session_expiration_time (bot/config): a paused conversation idle this long is the bot's again.
    rasa_session_minutes: float = Field(default=60.0, gt=0)
    handoff_upkeep_seconds: float = Field(default=60.0, ge=0)

    # --- staff console (/console) ---
    # Signs the console's CSRF tokens (itsdangerous); changing it invalidates open forms.
    console_secret: str = DEV_CONSOLE_SECRET
    # A session ends after this long without a request, and this long after the login at most.
    console_idle_minutes: float = 30.0
    console_absolute_hours: float = 10.0
    # "auto": the session cookie is Secure when the request came over https (uvicorn
    # --proxy-headers behind a TLS proxy); "always" for deployments behind a proxy that hides it.
    console_cookie_secure: Literal["auto", "always", "never"] = "auto"
    # Login throttling: failed attempts per account and per address within the window.
    login_window_minutes: float = 15.0
    login_max_failures_account: int = 5
    login_max_failures_address: int = 20
    password_min_length: int = 12
    # The unanswered inbox serves its last complete grouping; a request waits at most this
    # long for a regroup that is running (after a group was handled, at start) before it
    # shows the last one marked "actualizando" (the page must render in under 0.5 s).
    unanswered_page_wait_seconds: float = Field(default=0.1, ge=0.0, le=60.0)
    # The first grouping of the inbox starts with the process (on its own thread).
    unanswered_warm_on_start: bool = True
    # A fresh database takes the YAML files of knowledge_base/content as published v1 at start-up.
    content_seed_on_start: bool = True

    @model_validator(mode="after")
    def _lease_outlives_a_delivery(self) -> BackendSettings:
        # A delivery (tracker check + trigger) must end before another dispatcher may
        # take the row over, or the citizen could be told twice.
        if self.notify_lease_seconds <= 2 * self.notify_timeout_seconds:
            raise ValueError(
                "VENTANILLA_NOTIFY_LEASE_SECONDS must be more than twice VENTANILLA_NOTIFY_TIMEOUT_SECONDS"
            )
        return self

    @property
    def skip_channels(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.notify_skip_channels.split(",") if c.strip())

    def _production_problems(self) -> list[str]:
        problems = super()._production_problems()
        if not self.staff_tokens:
            problems.append("VENTANILLA_STAFF_TOKENS must list at least one token")
        if self.case_service_token == DEV_CASE_SERVICE_TOKEN or len(self.case_service_token) < 32:
            problems.append("VENTANILLA_CASE_SERVICE_TOKEN must be a secret of at least 32 characters")
        if self.console_secret == DEV_CONSOLE_SECRET or len(self.console_secret) < 32:
            problems.append("VENTANILLA_CONSOLE_SECRET must be a secret of at least 32 characters")
        if self.console_cookie_secure == "never":
            problems.append("VENTANILLA_CONSOLE_COOKIE_SECURE=never sends the session cookie over plain http")
        return problems
