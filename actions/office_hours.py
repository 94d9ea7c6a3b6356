"""When people are at work to answer a chat (``VENTANILLA_OFFICE_HOURS``, ``VENTANILLA_TIMEZONE``).

The format is meant to be written by the agency's staff in ``.env``::

    VENTANILLA_OFFICE_HOURS="mon-fri 08:00-15:00"
    VENTANILLA_OFFICE_HOURS="lun-vie 08:00-15:00; sab 09:00-12:00"
    VENTANILLA_TIMEZONE=America/Argentina/Buenos_Aires

Days in English or Spanish (``mon``..``sun``, ``lun``..``dom``), ranges (``mon-fri``)
and lists (``mon,wed``); several groups separated by ``;``. ``24:00`` closes at
midnight. An empty value means nobody answers chats live: citizens can always
leave a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from backend.settings import VentanillaSettings

_DAYS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "lun": 0, "mar": 1, "mie": 2, "mié": 2, "jue": 3, "vie": 4, "sab": 5, "sáb": 5, "dom": 6,
}  # fmt: skip
_DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_GROUP_RE = re.compile(r"^(?P<days>[a-záé,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


class InvalidOfficeHours(ValueError):
    """The office hours setting cannot be understood."""


@dataclass(frozen=True)
class Window:
    weekday: int
    start: int  # minutes from midnight
    end: int  # minutes from midnight, exclusive; 1440 = midnight


def _minutes(text: str, *, allow_midnight: bool) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    value = hours * 60 + minutes
    if minutes > 59 or value > 24 * 60 or (value == 24 * 60 and not allow_midnight):
        raise InvalidOfficeHours(f"hora inválida: {text}")
    return value


def _days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            if first not in _DAYS or last not in _DAYS:
                raise InvalidOfficeHours(f"día desconocido en {part!r}")
            day = _DAYS[first]
            while True:
                days.append(day)
                if day == _DAYS[last]:
                    break
                day = (day + 1) % 7
        elif part in _DAYS:
            days.append(_DAYS[part])
        else:
            raise InvalidOfficeHours(f"día desconocido: {part!r}")
    return days


@dataclass(frozen=True)
class OfficeHours:
    windows: tuple[Window, ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, timezone: str = "UTC") -> OfficeHours:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidOfficeHours(f"zona horaria desconocida: {timezone!r}") from None
        windows: list[Window] = []
        for group in filter(None, (g.strip().lower() for g in spec.split(";"))):
            match = _GROUP_RE.match(" ".join(group.split()))
            if not match:
                raise InvalidOfficeHours(f"no entiendo el horario {group!r}; use por ejemplo 'mon-fri 08:00-15:00'")
            start = _minutes(match["start"], allow_midnight=False)
            end = _minutes(match["end"], allow_midnight=True)
            if end <= start:
                raise InvalidOfficeHours(f"el horario {group!r} termina antes de empezar")
            windows.extend(Window(day, start, end) for day in _days(match["days"]))
        return cls(tuple(sorted(windows, key=lambda w: (w.weekday, w.start))), zone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(w.weekday == local.weekday() and w.start <= minute < w.end for w in self.windows)

    def next_opening(self, now: datetime) -> datetime | None:
        """The next moment (local time zone) at which a window starts; None if there are none."""
        if not self.windows:
            return None
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for window in self.windows:
                if window.weekday != day.weekday():
                    continue
                start = datetime.combine(day, time(window.start // 60, window.start % 60), tzinfo=self.zone)
                if start > local:
                    return start
        return None

    def describe(self) -> str:
        """'de lunes a viernes, de 08:00 a 15:00' (Spanish, for citizens)."""
        if not self.windows:
            return "sin atención en vivo por chat"
        by_hours: dict[tuple[int, int], list[int]] = {}
        for window in self.windows:
            by_hours.setdefault((window.start, window.end), []).append(window.weekday)
        parts = []
        for (start, end), days in by_hours.items():
            parts.append(f"{_describe_days(sorted(days))}, de {_hhmm(start)} a {_hhmm(end)}")
        return "; ".join(parts)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _describe_days(days: list[int]) -> str:
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"de {_DAY_NAMES[days[0]]} a {_DAY_NAMES[days[-1]]}"
    names = [_DAY_NAMES[d] for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " y " + names[-1]


def describe_opening(opening: datetime, now: datetime) -> str:
    """'hoy a las 08:00', 'mañana a las 08:00' or 'el lunes a las 08:00'."""
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    at = f"a las {opening:%H:%M}"
    if days == 0:
        return f"hoy {at}"
    if days == 1:
        return f"mañana {at}"
    return f"el {_DAY_NAMES[opening.weekday()]} {at}"


class SupportSettings(VentanillaSettings):
    """Human handoff settings of the action server."""

    office_hours: str = "mon-fri 08:00-15:00"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        OfficeHours.parse("", value)
        return value

    @field_validator("office_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        OfficeHours.parse(value)
        return value

    def hours(self) -> OfficeHours:
        return OfficeHours.parse(self.office_hours, self.timezone)
