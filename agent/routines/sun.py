"""A sunrise/sunset trigger for APScheduler, from the home's location (astral)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from astral import LocationInfo
from astral.sun import sun

# astral's names for the events people schedule by.
EVENTS = ("sunrise", "sunset", "dawn", "dusk")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def sun_time(
    event: str, day: datetime, latitude: float, longitude: float, tz: tzinfo
) -> datetime | None:
    """When the event happens on `day`'s date at the location (None in polar day or night)."""
    where = LocationInfo("home", "", str(tz), latitude, longitude)
    try:
        times = sun(where.observer, date=day.date(), tzinfo=tz)
    except ValueError:  # the sun never rises or sets that day
        return None
    return times[event]


class SunTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at sunrise/sunset/dawn/dusk plus an offset, optionally on some weekdays."""

    def __init__(
        self,
        event: str,
        latitude: float,
        longitude: float,
        timezone: tzinfo,
        offset_minutes: int = 0,
        days: tuple[str, ...] = (),
    ) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown sun event {event!r}")
        self.event = event
        self.latitude = latitude
        self.longitude = longitude
        self.timezone = timezone
        self.offset = timedelta(minutes=offset_minutes)
        self.days = days

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first event time after the previous fire time (or at/after now)."""
        start = previous_fire_time or now
        day = start.astimezone(self.timezone) - timedelta(days=1)
        for _ in range(400):  # a year and change covers every polar gap
            candidate = sun_time(self.event, day, self.latitude, self.longitude, self.timezone)
            day += timedelta(days=1)
            if candidate is None:
                continue
            candidate = candidate.replace(microsecond=0) + self.offset
            if self.days and WEEKDAYS[candidate.weekday()] not in self.days:
                continue
            if (previous_fire_time is not None and candidate > previous_fire_time) or (
                previous_fire_time is None and candidate >= now
            ):
                return candidate
        return None

    def __str__(self) -> str:
        sign = "+" if self.offset >= timedelta(0) else "-"
        minutes = abs(int(self.offset.total_seconds() // 60))
        return f"{self.event}{f' {sign}{minutes} min' if minutes else ''}"
