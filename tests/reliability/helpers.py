"""Small helpers shared by the reliability tests (HTTP without exceptions, timing, log reading)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import texts


def post(url: str, body: bytes, content_type: str = "application/json", timeout: float = 60) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def say(rasa_url: str, sender: str, text: str, timeout: float = 60) -> tuple[int, list[dict[str, Any]], float]:
    """One REST message: status, bot messages, seconds it took."""
    started = time.monotonic()
    status, body = post(
        f"{rasa_url}/webhooks/rest/webhook", json.dumps({"sender": sender, "message": text}).encode(), timeout=timeout
    )
    elapsed = time.monotonic() - started
    return status, (json.loads(body) if body else []), elapsed


def new_sender(prefix: str = "rel") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def all_logs(var_dir: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted((var_dir / "logs").glob("*.log")))


__all__ = ["all_logs", "new_sender", "post", "say", "texts"]
