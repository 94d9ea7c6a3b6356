"""Rasa buttons as platform-neutral choices, titles shortened to a limit, numbered menus.

Rasa hands channels buttons as ``{"title": ..., "payload": ...}`` dicts (link buttons
carry ``"url"`` instead of a payload). Both channels turn them into :class:`Choice`
objects first, then each renders them under its own limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from textnorm import spaced_key

ELLIPSIS = "…"


@dataclass(frozen=True)
class Choice:
    """One option offered to the citizen: what they see and what the bot receives."""

    title: str
    payload: str
    url: str | None = None


def choices_from(buttons: Iterable[object] | None) -> list[Choice]:
    """Rasa button dicts as choices; buttons without a title or payload are dropped."""
    choices: list[Choice] = []
    for button in buttons or []:
        if not isinstance(button, Mapping):
            continue
        title = str(button.get("title") or "").strip()
        url = button.get("url")
        payload = str(button.get("payload") or "").strip()
        if not title:
            continue
        if url:
            choices.append(Choice(title, payload or title, str(url)))
        elif payload:
            choices.append(Choice(title, payload))
    return choices


def shorten(title: str, limit: int, *, at_word: bool = True) -> str:
    """``title`` in at most ``limit`` characters, with an ellipsis when cut.

    The cut is made at a word boundary unless ``at_word`` is False (or no boundary
    falls in the second half), which keeps more of the text.
    """
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    room = limit - len(ELLIPSIS)
    head = title[:room]
    space = head.rfind(" ")
    if at_word and space >= room // 2:
        head = head[:space]
    return head.rstrip(" ,.;:-—") + ELLIPSIS


MENU_HINT = "Responda con el número de la opción que prefiera."


def numbered_menu(text: str, choices: Sequence[Choice]) -> str:
    """The text followed by ``1. Title`` lines and how to answer."""
    lines = [f"{number}. {choice.title}" for number, choice in enumerate(choices, start=1)]
    head = f"{text.strip()}\n\n" if text and text.strip() else ""
    return f"{head}" + "\n".join(lines) + f"\n\n{MENU_HINT}"


_NUMBER = re.compile(r"^\s*(?:opci[oó]n\s*)?(\d{1,3})\s*[.)°º]?\s*$", re.IGNORECASE)


def menu_choice(answer: str, titles: Sequence[str]) -> int | None:
    """Index of the option the citizen typed (its number or its exact title), else None."""
    match = _NUMBER.match(answer)
    if match:
        number = int(match.group(1))
        return number - 1 if 1 <= number <= len(titles) else None
    folded = spaced_key(answer).rstrip(".!")
    for index, title in enumerate(titles):
        if folded and folded == spaced_key(title):
            return index
    return None


def distinct_titles(choices: Sequence[Choice], limit: int) -> list[str] | None:
    """Titles shortened to ``limit`` that still tell the choices apart, or None.

    Word-boundary cuts read better; when they make two titles equal («Certificado de…»
    twice), cutting mid-word keeps more characters and may separate them.
    """
    for at_word in (True, False):
        titles = [shorten(choice.title, limit, at_word=at_word) for choice in choices]
        if len({t.casefold() for t in titles}) == len(titles):
            return titles
    return None
