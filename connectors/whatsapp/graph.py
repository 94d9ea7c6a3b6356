"""Sending messages through the WhatsApp Cloud API (Graph API ``/<phone-id>/messages``).

Each message is one POST, retried with backoff when the platform is briefly down
(5xx), asks us to slow down (429, or a throttling error code) or cannot be reached.
Timeouts while reading the answer are not retried: the message may have gone out,
and a duplicate is worse for a citizen than a logged failure. The base URL comes
from the settings so tests can point it at a local fake server.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from connectors.common.retry import DEFAULT_POLICY, Retry, RetryPolicy, with_retries
from connectors.whatsapp.settings import WhatsAppSettings

logger = logging.getLogger(__name__)

# Graph error codes worth retrying: throttling (4, 80007, 130429, 131056 pair rate
# limit) and transient service errors (1, 2, 131000 something went wrong, 131016
# service unavailable).
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056})
# The customer-service window is closed: only a template may be sent.
REENGAGEMENT_REQUIRED = 131047


class GraphError(Exception):
    """The Graph API refused a message (after retries, when they made sense)."""

    def __init__(
        self, status: int, code: int, title: str, transient: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(f"Graph API {status}: error {code} {title}")
        self.status = status
        self.code = code
        self.title = title
        self.transient = transient
        self.retry_after = retry_after


def classify(exc: BaseException) -> Retry | None:
    if isinstance(exc, GraphError):
        if exc.status == 429 or exc.status >= 500 or exc.code in RETRYABLE_CODES or exc.transient:
            return Retry(exc.retry_after)
        return None
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Retry()
    return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _graph_error(response: httpx.Response) -> GraphError:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    return GraphError(
        status=response.status_code,
        code=int(error.get("code") or 0),
        title=str(error.get("error_user_title") or error.get("message") or response.reason_phrase),
        transient=bool(error.get("is_transient")),
        retry_after=_retry_after(response),
    )


class GraphClient:
    """A client for one phone number. No connection is opened before the first send."""

    def __init__(self, settings: WhatsAppSettings, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self._settings = settings
        self._policy = policy
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(15.0, connect=5.0),
                headers={"Authorization": f"Bearer {self._settings.access_token}"},
            )
        return self._client

    async def _post_once(self, body: dict[str, Any]) -> str | None:
        response = await self._http().post(self._settings.messages_url, json=body)
        if response.status_code >= 400:
            raise _graph_error(response)
        try:
            sent = response.json().get("messages") or [{}]
            return str(sent[0].get("id")) if sent[0].get("id") else None
        except (ValueError, AttributeError, IndexError):
            return None

    async def send(self, to: str, message: dict[str, Any]) -> str | None:
        """Sends one message body (``{"type": ..., ...}``) to ``to``; returns its id."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        return await with_retries(
            lambda: self._post_once(body), classify, self._policy, what=f"whatsapp send {message.get('type')}"
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
