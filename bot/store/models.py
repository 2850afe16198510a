"""Rows the store keeps. Only what features need: no message text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class UserState:
    key: str
    """Pseudonymous key (see bot.pseudonym); never a platform id."""
    lang: str | None = None
    lang_source: str | None = None
    """"chosen" (explicit), "locale" (platform) or "detected" (from the text)."""
    country: str | None = None
    flow: str | None = None
    """A conversation in progress (a follow-up, a question asked) or None."""
    flow_data: dict[str, Any] = field(default_factory=dict)
    introduced: bool = False
    memory: dict[str, Any] = field(default_factory=dict)
    """What features remember between conversations (the guide tips already shown),
    kept apart from `flow_data`, which ends with the conversation in progress."""


@dataclass(frozen=True, slots=True)
class Checkin:
    """One mood check-in; `note` is the optional word the person added."""

    id: int
    at: dt.datetime
    score: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A check-in reminder; `chat_id` is where the adapter can reach the person later."""

    user_key: str
    platform: str
    chat_id: str
    lang: str
    every: str
    """"daily" or "weekly"."""
    local_time: str
    """"HH:MM" in the person's time zone."""
    tz: str
    """An IANA zone name ("Europe/Berlin")."""
    weekday: int | None
    """For weekly reminders: Monday 0 … Sunday 6, in the person's time zone."""
    next_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """What a person may see of their own case: no staff notes, no message text."""

    status: str
    created_at: str
    closed_at: str | None


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Everything kept under one person's key, for /export."""

    user: UserState | None
    checkins: tuple[Checkin, ...]
    reminder: Reminder | None
    cases: tuple[CaseSummary, ...]
