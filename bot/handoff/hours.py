"""Office hours: is the team working now, and when will it next be."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.resources import Handoff


def is_open(hours: Handoff, now: dt.datetime) -> bool:
    local = now.astimezone(ZoneInfo(hours.timezone))
    return local.weekday() in hours.days and hours.opens <= local.time() < hours.closes


def next_opening(hours: Handoff, now: dt.datetime) -> dt.datetime:
    """`now` when open, else the start of the next working day (in the hub's zone)."""
    if is_open(hours, now):
        return now
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        start = dt.datetime.combine(day, hours.opens, tzinfo=zone)
        if day.weekday() in hours.days and start > local:
            return start
    return local


def expected_reply(hours: Handoff, now: dt.datetime) -> dt.datetime:
    """When a person writing now can honestly expect a first reply at the latest:
    the target counts working time only, so 17:30 plus four hours is tomorrow."""
    remaining = dt.timedelta(minutes=hours.target_minutes)
    start = next_opening(hours, now)
    for _ in range(60):
        closes = dt.datetime.combine(start.date(), hours.closes, tzinfo=start.tzinfo)
        if remaining <= closes - start:
            return start + remaining
        remaining -= closes - start
        start = next_opening(hours, closes)
    return start + remaining
