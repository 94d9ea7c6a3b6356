"""Bot messages as WhatsApp Cloud API message bodies, within the platform's limits.

Limits (Cloud API reference): text 4096 characters; reply buttons 1-3, titles 20
characters, ids 256, body 1024; lists up to 10 rows, row titles 24 characters,
descriptions 72, ids 200, list button label 20, body 4096.

Choices become reply buttons when there are at most 3 (titles shortened), a list when
there are at most 10 (or when shortened button titles would collide), and a numbered
text menu beyond that; the citizen answers the menu by typing the number, which the
channel maps back to the payload. Outside the 24-hour customer-service window only
templates may be sent: :func:`template_body` builds one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.common import messages
from connectors.common.buttons import Choice, choices_from, distinct_titles, numbered_menu, shorten
from connectors.common.text import single_line, split_text

TEXT_LIMIT = 4096
BUTTON_BODY_LIMIT = 1024
LIST_BODY_LIMIT = 4096
MAX_REPLY_BUTTONS = 3
REPLY_TITLE_LIMIT = 20
REPLY_ID_LIMIT = 256
MAX_LIST_ROWS = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
LIST_BUTTON_LIMIT = 20
TEMPLATE_PARAMETER_LIMIT = 1000

# encode(payload, max_bytes) -> an id of at most max_bytes (see common.payloads).
Encoder = Callable[[str, int], Awaitable[str]]


@dataclass
class Rendered:
    """The bodies to send, in order, and the numbered menu to remember (if any)."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    menu: list[Choice] | None = None


def text_body(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": text, "preview_url": "http://" in text or "https://" in text}}


def _texts(text: str) -> list[dict[str, Any]]:
    return [text_body(chunk) for chunk in split_text(text, TEXT_LIMIT)]


def _lead_and_body(text: str, body_limit: int) -> tuple[list[dict[str, Any]], str]:
    """Plain text messages for what does not fit, and the interactive message's body."""
    chunks = split_text(text, TEXT_LIMIT) or [messages.DEFAULT_BUTTON_PROMPT]
    body = split_text(chunks[-1], body_limit)[-1]
    rest = chunks[-1][: chunks[-1].rfind(body)].strip()  # under TEXT_LIMIT: one message
    lead = [text_body(chunk) for chunk in chunks[:-1] + ([rest] if rest else [])]
    return lead, body


def _unique_by_payload(choices: Sequence[Choice]) -> list[Choice]:
    seen: set[str] = set()
    unique = []
    for choice in choices:
        if choice.payload not in seen:
            seen.add(choice.payload)
            unique.append(choice)
    return unique


async def _reply_buttons(
    text: str, choices: Sequence[Choice], titles: Sequence[str], encode: Encoder
) -> list[dict[str, Any]]:
    lead, body = _lead_and_body(text, BUTTON_BODY_LIMIT)
    buttons = [
        {"type": "reply", "reply": {"id": await encode(c.payload, REPLY_ID_LIMIT), "title": title}}
        for c, title in zip(choices, titles, strict=True)
    ]
    return [
        *lead,
        {
            "type": "interactive",
            "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
        },
    ]


async def _list(text: str, choices: Sequence[Choice], titles: Sequence[str], encode: Encoder) -> list[dict[str, Any]]:
    lead, body = _lead_and_body(text, LIST_BODY_LIMIT)
    rows = []
    for choice, title in zip(choices, titles, strict=True):
        row: dict[str, Any] = {"id": await encode(choice.payload, ROW_ID_LIMIT), "title": title}
        if row["title"] != " ".join(choice.title.split()):
            row["description"] = shorten(choice.title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    action = {"button": shorten(messages.LIST_BUTTON_LABEL, LIST_BUTTON_LIMIT), "sections": [{"rows": rows}]}
    return [*lead, {"type": "interactive", "interactive": {"type": "list", "body": {"text": body}, "action": action}}]


def _custom_text(custom: Any) -> str:
    """Text carried by a custom payload we understand; others are not for this channel."""
    if isinstance(custom, Mapping) and custom.get("type") == "case_notification":
        return str(custom.get("text") or "")
    return ""


async def render(message: Mapping[str, Any], encode: Encoder) -> Rendered:
    """One Rasa bot message (text, buttons, image, custom...) as Cloud API bodies."""
    rendered = Rendered()
    text = str(message.get("text") or "") or _custom_text(message.get("custom"))
    all_choices = choices_from(message.get("buttons") or message.get("quick_replies"))
    links = [c for c in all_choices if c.url]
    if links:
        text = "\n".join([text] + [f"{c.title}: {c.url}" for c in links]).strip()
    choices = _unique_by_payload([c for c in all_choices if not c.url])

    button_titles = distinct_titles(choices, REPLY_TITLE_LIMIT) if len(choices) <= MAX_REPLY_BUTTONS else None
    row_titles = distinct_titles(choices, ROW_TITLE_LIMIT) if len(choices) <= MAX_LIST_ROWS else None
    if not choices:
        rendered.bodies.extend(_texts(text))
    elif button_titles:
        rendered.bodies.extend(await _reply_buttons(text, choices, button_titles, encode))
    elif row_titles:
        rendered.bodies.extend(await _list(text, choices, row_titles, encode))
    else:
        rendered.bodies.extend(_texts(numbered_menu(text, choices)))
        rendered.menu = list(choices)

    image = message.get("image")
    if image:
        rendered.bodies.append({"type": "image", "image": {"link": str(image)}})
    attachment = message.get("attachment")
    if isinstance(attachment, str) and attachment and attachment != image:
        rendered.bodies.extend(_texts(attachment))
    return rendered


def notification_text(message: Mapping[str, Any]) -> str:
    """What a message says, for a template outside the 24-hour window (no buttons there)."""
    return str(message.get("text") or "") or _custom_text(message.get("custom"))


def template_parameters(message: Mapping[str, Any]) -> list[str]:
    """Body parameters: those a ``case_notification`` payload names, else the message text."""
    custom = message.get("custom")
    if isinstance(custom, Mapping) and custom.get("type") == "case_notification":
        named = custom.get("template_parameters")
        if isinstance(named, list) and named:
            return [shorten(single_line(str(p)), TEMPLATE_PARAMETER_LIMIT) for p in named]
    text = notification_text(message)
    return [shorten(single_line(text), TEMPLATE_PARAMETER_LIMIT)] if text.strip() else []


def template_body(name: str, language: str, parameters: Sequence[str]) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
    return {"type": "template", "template": template}
