"""Analytics settings (``VENTANILLA_*``): where Rasa's events arrive, the public page switch.

The broker variables are the ones bot/endpoints.yml gives Rasa (``VENTANILLA_EVENT_BROKER``
and friends), so the backend reads events from where Rasa writes them.
"""

from __future__ import annotations

from typing import Literal

from backend.settings import StoreSettings


class AnalyticsSettings(StoreSettings):
    """sql (embedded default): Rasa's SQL broker table, drained by the backend; pika: RabbitMQ."""

    event_broker: Literal["sql", "pika", "none"] = "sql"
    # The SQL broker's SQLite file (embedded); empty: var/rasa_events.db.
    event_db: str = ""
    event_drain_seconds: float = 1.0
    event_batch: int = 500
    rabbitmq_host: str = "127.0.0.1"
    rabbitmq_port: int = 5672
    rabbitmq_username: str = "guest"
    rabbitmq_password: str = "guest"  # noqa: S105 - RabbitMQ's local default
    rabbitmq_queue: str = "ventanilla-analytics"
    # The consumer's /metrics port (0: none) and address (0.0.0.0 in containers, for probes).
    consumer_metrics_port: int = 0
    consumer_metrics_host: str = "127.0.0.1"
    # The public transparency page (/transparencia): off unless the agency switches it on.
    public_page: bool = False
    # Figures built from fewer conversations than this are hidden on the public page.
    public_min_conversations: int = 10

    @property
    def effective_event_db(self) -> str:
        return self.event_db or str(self.var_dir / "rasa_events.db")
