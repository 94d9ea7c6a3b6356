"""Bot messages as Telegram sends: HTML-escaped text chunks and inline keyboards.

Messages are sent with ``parse_mode=HTML``, so every text is escaped (``<``, ``>``,
``&``); the bot's texts are plain and must show exactly as written. Texts longer than
Telegram's 4096 characters are split first (the limit counts the text after entity
parsing, so escaping does not use it up) and the keyboard goes with the last chunk.
Buttons become an inline keyboard with one button per row: titles are full Spanish
phrases, and a column reads best on a phone.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.common import messages
from connectors.common.buttons import Choice, choices_from, shorten
from connectors.common.text import split_text

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
BUTTON_TEXT_LIMIT = 64  # longer labels are cut off by the apps anyway
PARSE_MODE = "HTML"


@dataclass
class TextPlan:
    """A text (raw, unescaped) and the choices to show under it."""

    text: str
    choices: list[Choice] = field(default_factory=list)


@dataclass
class PhotoPlan:
    url: str


Plan = TextPlan | PhotoPlan


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def html_chunks(text: str) -> list[str]:
    """``text`` split under Telegram's limit, each chunk escaped for HTML."""
    return [escape(chunk) for chunk in split_text(text, TEXT_LIMIT)]


def _custom_text(custom: Any) -> str:
    if isinstance(custom, Mapping) and custom.get("type") == "case_notification":
        return str(custom.get("text") or "")
    return ""


def plan(message: Mapping[str, Any]) -> list[Plan]:
    """What to send for one Rasa bot message."""
    plans: list[Plan] = []
    text = str(message.get("text") or "") or _custom_text(message.get("custom"))
    choices = choices_from(message.get("buttons") or message.get("quick_replies"))
    if text.strip() or choices:
        plans.append(TextPlan(text if text.strip() else messages.DEFAULT_BUTTON_PROMPT, choices))
    image = message.get("image")
    if image:
        plans.append(PhotoPlan(str(image)))
    attachment = message.get("attachment")
    if isinstance(attachment, str) and attachment and attachment != image:
        plans.append(TextPlan(attachment))
    return plans


def keyboard(choices: list[Choice], callback_data: list[str | None]) -> dict[str, Any]:
    """An ``InlineKeyboardMarkup`` as the Bot API's JSON; url buttons need no callback data."""
    rows = []
    for choice, data in zip(choices, callback_data, strict=True):
        label = shorten(choice.title, BUTTON_TEXT_LIMIT)
        rows.append([{"text": label, "url": choice.url} if choice.url else {"text": label, "callback_data": data}])
    return {"inline_keyboard": rows}
