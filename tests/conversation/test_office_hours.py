"""Office hours: parsing what staff write, open/closed, and when someone will answer."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from actions.office_hours import InvalidOfficeHours, OfficeHours, SupportSettings, describe_opening

BA = "America/Argentina/Buenos_Aires"  # UTC-3, no daylight saving time


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_weekday_hours_in_the_agencys_time_zone() -> None:
    hours = OfficeHours.parse("mon-fri 08:00-15:00", BA)
    # Monday 2026-11-23: 08:00 in Buenos Aires is 11:00 UTC.
    assert not hours.is_open(utc(2026, 11, 23, 10, 59))
    assert hours.is_open(utc(2026, 11, 23, 11, 0))
    assert hours.is_open(utc(2026, 11, 23, 17, 59))
    assert not hours.is_open(utc(2026, 11, 23, 18, 0))  # 15:00 closes
    assert not hours.is_open(utc(2026, 11, 22, 14, 0))  # Sunday


def test_next_opening_after_hours_and_on_weekends() -> None:
    hours = OfficeHours.parse("mon-fri 08:00-15:00", BA)
    friday_evening = utc(2026, 11, 27, 22, 0)  # Friday 19:00 local
    opening = hours.next_opening(friday_evening)
    assert opening is not None and opening.weekday() == 0 and (opening.hour, opening.minute) == (8, 0)
    assert describe_opening(opening, friday_evening) == "el lunes a las 08:00"
    monday_early = utc(2026, 11, 23, 9, 0)  # Monday 06:00 local
    assert describe_opening(hours.next_opening(monday_early), monday_early) == "hoy a las 08:00"  # type: ignore[arg-type]
    tuesday_night = utc(2026, 11, 24, 23, 30)  # Tuesday 20:30 local
    assert describe_opening(hours.next_opening(tuesday_night), tuesday_night) == "mañana a las 08:00"  # type: ignore[arg-type]


def test_several_groups_spanish_days_and_midnight() -> None:
    hours = OfficeHours.parse("lun-vie 08:00-15:00; sab 09:00-12:00; dom 20:00-24:00", "UTC")
    assert hours.is_open(utc(2026, 11, 28, 10, 0))  # Saturday
    assert not hours.is_open(utc(2026, 11, 28, 12, 0))
    assert hours.is_open(utc(2026, 11, 29, 23, 59))  # Sunday before midnight
    assert (
        hours.describe() == "de lunes a viernes, de 08:00 a 15:00; sábado, de 09:00 a 12:00; domingo, de 20:00 a 24:00"
    )


def test_lists_and_wrapping_ranges() -> None:
    hours = OfficeHours.parse("mon,wed 10:00-11:00; sat-mon 09:00-10:00", "UTC")
    weekdays = sorted({w.weekday for w in hours.windows})
    assert weekdays == [0, 2, 5, 6]


def test_no_office_hours_means_never_live() -> None:
    hours = OfficeHours.parse("", "UTC")
    assert not hours.is_open(utc(2026, 11, 23, 12, 0))
    assert hours.next_opening(utc(2026, 11, 23, 12, 0)) is None


@pytest.mark.parametrize(
    "spec", ["mon-fri", "mon-fri 8-15", "funday 08:00-10:00", "mon 15:00-08:00", "mon 08:00-25:00", "mon 08:60-09:00"]
)
def test_bad_office_hours_are_refused(spec: str) -> None:
    with pytest.raises(InvalidOfficeHours):
        OfficeHours.parse(spec, "UTC")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_OFFICE_HOURS", "lun-vie 09:00-13:00")
    monkeypatch.setenv("VENTANILLA_TIMEZONE", BA)
    hours = SupportSettings().hours()
    assert hours.is_open(utc(2026, 11, 23, 12, 30))  # 09:30 local
    monkeypatch.setenv("VENTANILLA_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError):
        SupportSettings()
    monkeypatch.setenv("VENTANILLA_TIMEZONE", "UTC")
    monkeypatch.setenv("VENTANILLA_OFFICE_HOURS", "whenever")
    with pytest.raises(ValidationError):
        SupportSettings()
