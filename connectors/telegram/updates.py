"""What to do with a Telegram ``Update``: pass it to the bot, answer it, or ignore it.

Updates are parsed with python-telegram-bot's types. Two quirks are handled first:
some updates omit ``chat.type`` (python-telegram-bot requires it), and button presses
on inline-mode messages carry ``inline_message_id`` and no ``message``, so the citizen
is identified by ``from.id`` (their private chat with the bot has the same id).

The bot talks only in private chats: in groups other people's messages would reach
a conversation about one citizen's procedures.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from telegram import Message, Update

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
    chat_id: Optional[str] = None
    text: Optional[str] = None
    data: Optional[str] = None
    callback_query_id: Optional[str] = None
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def normalize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the raw update with fields Telegram's own examples leave out filled in.

    Some updates (and the examples in Telegram's webhook guide) omit ``chat.type`` and
    the users' ``is_bot``/``first_name`` and ``callback_query.chat_instance``, which python-telegram-bot requires. Private
    chats have the user's (positive) id, groups and channels negative ids.
    """
    update = copy.deepcopy(dict(raw))
    _fill(update)
    return update


def _fill(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _fill(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if isinstance(value, dict):
            if key == "chat" and "type" not in value and isinstance(value.get("id"), int):
                value["type"] = "private" if value["id"] > 0 else "group"
            elif key in ("from", "user", "sender_user") and isinstance(value.get("id"), int):
                value.setdefault("is_bot", False)
                value.setdefault("first_name", str(value.get("title") or ""))
            elif key == "callback_query":
                value.setdefault("chat_instance", "")
            if "file_id" in value:
                value.setdefault("file_unique_id", str(value["file_id"]))
        _fill(value)


def typed_text(text: str) -> str:
    """A typed message as Rasa should see it: known commands as intents, the rest as text."""
    match = _COMMAND.match(text.strip())
    if match:
        intent = COMMANDS.get(match.group(1).lower())
        if intent:
            return intent
        return as_typed_text(match.group(2) or match.group(1))
    return as_typed_text(text)


def _location(message: Message) -> tuple[str, dict[str, Any]]:
    venue, location = message.venue, message.location
    if venue is not None:
        described = ", ".join(part for part in (venue.title, venue.address) if part)
        location = venue.location
    else:
        described = ""
    data: dict[str, Any] = {}
    if location is not None:
        data = {"latitude": location.latitude, "longitude": location.longitude}
        if not described:
            described = f"{location.latitude:.5f}, {location.longitude:.5f}"
    if venue is not None:
        data.update({"name": venue.title, "address": venue.address})
    return f"{messages.LOCATION_PREFIX}: {described}", {"location": data}


def classify(update: Update) -> Action:
    query = update.callback_query
    if query is not None:
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        if query.data is None:  # game buttons carry no data
            return Action("ignore", str(chat_id), callback_query_id=query.id, reason="callback without data")
        return Action("button", str(chat_id), data=query.data, callback_query_id=query.id)

    if update.edited_message is not None:
        edited = update.edited_message
        if edited.chat.type != "private":
            return Action("ignore", reason="edited message outside a private chat")
        return Action("reply", str(edited.chat.id), text=messages.EDITED)

    message = update.message
    if message is None:
        kinds = [key for key, value in update.to_dict().items() if key != "update_id" and value]
        return Action("ignore", reason=f"update {', '.join(kinds) or 'empty'}")
    chat_id = str(message.chat.id)
    if message.chat.type != "private":
        return Action("ignore", reason=f"message in a {message.chat.type} chat")
    if message.text:
        text = typed_text(message.text)
        return Action("message", chat_id, text=text) if text else Action("ignore", reason="empty text")
    if message.location is not None or message.venue is not None:
        text, metadata = _location(message)
        return Action("message", chat_id, text=text, metadata=metadata)
    if message.voice is not None or message.audio is not None or message.video_note is not None:
        return Action("reply", chat_id, text=messages.NO_AUDIO)
    if message.effective_attachment is not None or message.caption:
        return Action("reply", chat_id, text=messages.ONLY_TEXT)
    return Action("ignore", reason="service message")


_AUDIO_KEYS = ("voice", "audio", "video_note")
_MEDIA_KEYS = (
    "photo",
    "document",
    "video",
    "sticker",
    "animation",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
)


def classify_raw(raw: Mapping[str, Any]) -> Action:
    """The same decision from the raw JSON, for updates python-telegram-bot cannot parse."""
    query = raw.get("callback_query")
    if isinstance(query, Mapping):
        chat = ((query.get("message") or {}).get("chat") or {}).get("id") or (query.get("from") or {}).get("id")
        if chat is None:
            return Action("ignore", reason="callback without a user")
        if query.get("data") is None:
            return Action(
                "ignore", str(chat), callback_query_id=str(query.get("id") or ""), reason="callback without data"
            )
        return Action("button", str(chat), data=str(query["data"]), callback_query_id=str(query.get("id") or ""))
    for key in ("message", "edited_message"):
        message = raw.get(key)
        if not isinstance(message, Mapping):
            continue
        chat = message.get("chat") or {}
        chat_id = chat.get("id")
        if not isinstance(chat_id, int):
            return Action("ignore", reason=f"{key} without a chat")
        if chat.get("type", "private" if chat_id > 0 else "group") != "private":
            return Action("ignore", reason=f"{key} outside a private chat")
        if key == "edited_message":
            return Action("reply", str(chat_id), text=messages.EDITED)
        if isinstance(message.get("text"), str):
            text = typed_text(message["text"])
            return Action("message", str(chat_id), text=text) if text else Action("ignore", reason="empty text")
        location = message.get("location")
        if isinstance(location, Mapping) and "latitude" in location and "longitude" in location:
            data = {"latitude": location["latitude"], "longitude": location["longitude"]}
            text = f"{messages.LOCATION_PREFIX}: {float(data['latitude']):.5f}, {float(data['longitude']):.5f}"
            return Action("message", str(chat_id), text=text, metadata={"location": data})
        if any(k in message for k in _AUDIO_KEYS):
            return Action("reply", str(chat_id), text=messages.NO_AUDIO)
        if any(k in message for k in _MEDIA_KEYS) or message.get("caption"):
            return Action("reply", str(chat_id), text=messages.ONLY_TEXT)
        return Action("ignore", reason="service message")
    kinds = [k for k in raw if k != "update_id"]
    return Action("ignore", reason=f"update {', '.join(kinds) or 'empty'}")


def decide(raw: Mapping[str, Any]) -> tuple[Action, bool]:
    """The action for a raw update, and whether python-telegram-bot could parse it."""
    try:
        update = Update.de_json(normalize(raw), None)
    except (TypeError, KeyError, ValueError, AttributeError):
        return classify_raw(raw), False
    if update is None:
        return classify_raw(raw), False
    return classify(update), True
