"""What to do with a Telegram ``Update``: pass it to the bot, answer it, or ignore it.

One decision tree over the update's JSON. Two quirks are handled first: some updates
omit ``chat.type`` (filled in from the sign of the chat id), and button presses on
inline-mode messages carry ``inline_message_id`` and no ``message``, so the citizen is
identified by ``from.id`` (their private chat with the bot has the same id).

The bot talks only in private chats: in groups other people's messages would reach
a conversation about one citizen's procedures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.common import messages
from connectors.common.typed import as_typed_text

# The updates the bot asks Telegram for (webhook registration and polling).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

# Commands citizens may send, mapped to intents (the rest are read as plain text).
COMMANDS = {
    "start": "/greet",
    "help": "/help",
    "ayuda": "/help",
    "cancel": "/cancel",
    "cancelar": "/cancel",
}
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Action:
    """``kind`` is "message" (send ``text`` to Rasa), "button" (``data`` is callback data),
    "reply" (the channel answers ``text`` itself) or "ignore" (``reason`` says why)."""

    kind: str
    chat_id: str | None = None
    text: str | None = None
    data: str | None = None
    callback_query_id: str | None = None
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def typed_text(text: str) -> str:
    """A typed message as Rasa should see it: known commands as intents, the rest as text."""
    match = _COMMAND.match(text.strip())
    if match:
        intent = COMMANDS.get(match.group(1).lower())
        if intent:
            return intent
        return as_typed_text(match.group(2) or match.group(1))
    return as_typed_text(text)


def _location(message: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    venue = message.get("venue") if isinstance(message.get("venue"), Mapping) else None
    location = venue.get("location") if venue is not None else message.get("location")
    described = ", ".join(str(part) for part in (venue.get("title"), venue.get("address")) if part) if venue else ""
    data: dict[str, Any] = {}
    if isinstance(location, Mapping) and "latitude" in location and "longitude" in location:
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
        data = {"latitude": latitude, "longitude": longitude}
        if not described:
            described = f"{latitude:.5f}, {longitude:.5f}"
    if venue is not None:
        data.update({"name": venue.get("title"), "address": venue.get("address")})
    return f"{messages.LOCATION_PREFIX}: {described}", {"location": data}


_AUDIO_KEYS = ("voice", "audio", "video_note")
# What python-telegram-bot's ``Message.effective_attachment`` looks at, less audio and places.
_MEDIA_KEYS = (
    "animation",
    "contact",
    "dice",
    "document",
    "game",
    "invoice",
    "paid_media",
    "passport_data",
    "photo",
    "poll",
    "sticker",
    "story",
    "successful_payment",
    "video",
)


def _chat(message: Mapping[str, Any]) -> tuple[int | None, str]:
    """The chat id and type of a message; a missing type follows the id's sign (private chats are positive)."""
    chat = message.get("chat") or {}
    chat_id = chat.get("id") if isinstance(chat, Mapping) else None
    if not isinstance(chat_id, int):
        return None, ""
    return chat_id, str(chat.get("type") or ("private" if chat_id > 0 else "group"))


def _callback(query: Mapping[str, Any]) -> Action:
    message = query.get("message")
    chat_id = _chat(message)[0] if isinstance(message, Mapping) else None
    if chat_id is None:
        chat_id = (query.get("from") or {}).get("id")
    query_id = str(query.get("id") or "")
    if chat_id is None:
        return Action("ignore", callback_query_id=query_id or None, reason="callback without a user")
    if query.get("data") is None:  # game buttons carry no data
        return Action("ignore", str(chat_id), callback_query_id=query_id, reason="callback without data")
    return Action("button", str(chat_id), data=str(query["data"]), callback_query_id=query_id)


def _message(message: Mapping[str, Any]) -> Action:
    chat_id, chat_type = _chat(message)
    if chat_id is None:
        return Action("ignore", reason="message without a chat")
    if chat_type != "private":
        return Action("ignore", reason=f"message in a {chat_type} chat")
    chat = str(chat_id)
    if isinstance(message.get("text"), str) and message["text"]:
        text = typed_text(message["text"])
        return Action("message", chat, text=text) if text else Action("ignore", reason="empty text")
    if message.get("location") or message.get("venue"):
        text, metadata = _location(message)
        return Action("message", chat, text=text, metadata=metadata)
    if any(message.get(key) is not None for key in _AUDIO_KEYS):
        return Action("reply", chat, text=messages.NO_AUDIO)
    if any(message.get(key) is not None for key in _MEDIA_KEYS) or message.get("caption"):
        return Action("reply", chat, text=messages.ONLY_TEXT)
    return Action("ignore", reason="service message")


def decide(raw: Mapping[str, Any]) -> Action:
    """What to do with one raw update (the JSON Telegram posts), whatever fields it carries.

    Read from the JSON itself rather than python-telegram-bot's types, so an update the
    library cannot parse (a new field, a missing one) gets the same decision.
    """
    update = raw
    query = update.get("callback_query")
    if isinstance(query, Mapping):
        return _callback(query)
    edited = update.get("edited_message")
    if isinstance(edited, Mapping):
        chat_id, chat_type = _chat(edited)
        if chat_id is None or chat_type != "private":
            return Action("ignore", reason="edited message outside a private chat")
        return Action("reply", str(chat_id), text=messages.EDITED)
    message = update.get("message")
    if isinstance(message, Mapping):
        return _message(message)
    kinds = [key for key, value in update.items() if key != "update_id" and value]
    return Action("ignore", reason=f"update {', '.join(kinds) or 'empty'}")
