"""Check-in reminders: when the next one is due, where a person is, and sending them.

A reminder is the one thing the check-in feature sends unasked, so it must be
easy to stop (every reminder carries a stop button) and must stop by itself
when the platform says the person can no longer be reached.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path

from bot.messages import Button, Reply
from bot.outbound import DeliveryError, Messenger
from bot.store import Store
from bot.store.models import Reminder
from bot.textnorm import normalize
from bot.texts import Texts

log = logging.getLogger(__name__)

MOODS = ("1", "2", "3", "4", "5")
RETRY_AFTER = dt.timedelta(minutes=10)
"""Wait at least this long after a temporary delivery failure."""
BATCH = 200
_TIME = re.compile(r"^\s*(\d{1,2})(?:\s*[:h.]\s*(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?\s*$", re.I)


def parse_time(text: str) -> str | None:
    """ "20:30", "8.30", "8pm", "20h" -> "HH:MM"; None when it is not a time of day."""
    found = _TIME.match(text)
    if not found:
        return None
    hour, minute = int(found[1]), int(found[2] or 0)
    suffix = (found[3] or "").lower().replace(".", "")
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def next_at(
    local_time: str, tz: str, every: str, weekday: int | None, after: dt.datetime
) -> dt.datetime:
    """The first moment after `after` (UTC) when the reminder is due, in UTC.

    Computed on the local calendar, so a daily 20:30 stays 20:30 across
    daylight-saving changes.
    """
    zone = zoneinfo.ZoneInfo(tz)
    hour, minute = (int(x) for x in local_time.split(":"))
    local_after = after.astimezone(zone)
    day = local_after.date()
    for _ in range(9):
        if every == "daily" or day.weekday() == weekday:
            candidate = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
            if candidate.astimezone(dt.UTC) > after:
                return candidate.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
    raise ValueError(f"no next time for {every} reminder")  # unreachable with valid input


# -- where is the person -------------------------------------------------------


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    """ISO country code -> IANA zones, from the tz database's own zone.tab."""
    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone.tab"
        if table.is_file():
            zones: dict[str, list[str]] = {}
            for line in table.read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#"):
                    code, _, name, *_ = line.split("\t")
                    zones.setdefault(code, []).append(name)
            return {code: tuple(names) for code, names in zones.items()}
    return {}


@cache
def _zones_by_city() -> dict[str, str]:
    """ "new york" -> "America/New_York", "sao paulo" -> "America/Sao_Paulo"."""
    cities: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            cities.setdefault(normalize(name.rsplit("/", 1)[1].replace("_", " ")), name)
    return cities


def zone_of_country(code: str | None) -> str | None:
    """The country's main zone when all its zones keep the same time (Germany yes, the US no)."""
    zones = _zones_by_country().get(code or "", ())
    if not zones:
        return None
    moments = (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), dt.datetime(2026, 7, 15, tzinfo=dt.UTC))
    offsets = {
        tuple(m.astimezone(zoneinfo.ZoneInfo(z)).utcoffset() for m in moments) for z in zones
    }
    return zones[0] if len(offsets) == 1 else None


def zone_named(text: str, country: str | None) -> str | None:
    """A zone from what the person typed: "Europe/Berlin", a city, or a one-zone country."""
    wanted = text.strip().replace(" ", "_").lower()
    for name in zoneinfo.available_timezones():
        if name.lower() == wanted:
            return name
    words = normalize(text).split()
    cities = _zones_by_city()
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            zone = cities.get(" ".join(words[start : start + size]))
            if zone:
                return zone
    return zone_of_country(country)


# -- sending ---------------------------------------------------------------------


def reminder_reply(texts: Texts, lang: str) -> Reply:
    """The reminder itself: the mood buttons, and a way to stop."""
    buttons = tuple(Button(texts.get(lang, f"ci_label_{m}"), f"mood:{m}") for m in MOODS)
    stop = Button(texts.get(lang, "btn_ci_stop"), "remind:stop")
    return Reply(texts.get(lang, "ci_reminder"), (*buttons, stop), private=True)


class ReminderWorker:
    """Sends due reminders through the platforms' messengers and reschedules them.

    It also applies the check-in retention policy, as the one periodic job of
    the check-in feature.
    """

    def __init__(
        self,
        store: Store,
        texts: Texts,
        messengers: Mapping[str, Messenger],
        checkin_days: int,
        interval: float = 60.0,
    ) -> None:
        self.store = store
        self.texts = texts
        self.messengers = messengers
        self.checkin_days = checkin_days
        self.interval = interval

    async def run_once(self, now: dt.datetime) -> int:
        """Send what is due at `now`; returns how many reminders were delivered."""
        sent = 0
        for reminder in await self.store.due_reminders(now, BATCH):
            if await self._send(reminder, now):
                sent += 1
        await self.store.purge_checkins(now - dt.timedelta(days=self.checkin_days))
        return sent

    async def run(self) -> None:
        """Until cancelled; a failing round is logged and the next one goes on."""
        while True:
            try:
                await self.run_once(dt.datetime.now(dt.UTC))
            except Exception:
                log.exception("reminder round failed")
            await asyncio.sleep(self.interval)

    async def _send(self, reminder: Reminder, now: dt.datetime) -> bool:
        who = reminder.user_key[:8]
        messenger = self.messengers.get(reminder.platform)
        upcoming = next_at(reminder.local_time, reminder.tz, reminder.every, reminder.weekday, now)
        if messenger is None:  # that adapter is not running here: skip this one, keep the next
            await self.store.save_reminder(replace(reminder, next_at=upcoming))
            return False
        try:
            await messenger.send(reminder.chat_id, [reminder_reply(self.texts, reminder.lang)])
        except DeliveryError as exc:
            if exc.permanent:
                log.info("reminder stopped, person unreachable: user=%s", who)
                await self.store.delete_reminder(reminder.user_key)
            else:
                wait = max(RETRY_AFTER, dt.timedelta(seconds=exc.retry_after or 0))
                log.info("reminder delayed, will retry: user=%s", who)
                await self.store.save_reminder(replace(reminder, next_at=min(now + wait, upcoming)))
            return False
        await self.store.save_reminder(replace(reminder, next_at=upcoming))
        return True
