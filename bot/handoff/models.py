"""Cases and the people who act on them. Only what the person agreed to share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"


class Priority(StrEnum):
    CRISIS = "crisis"
    """Opened from a crisis reply: first in every list, escalated to on-call if unclaimed."""
    NORMAL = "normal"


class Contact(StrEnum):
    CHAT = "chat"
    EMAIL = "email"
    PHONE = "phone"


@dataclass(slots=True)
class Case:
    id: str
    """Random and unguessable (bot.handoff.desk.new_case_id)."""
    user_key: str
    """The person's pseudonym; never shown to staff."""
    platform: str
    address: str | None
    """The chat id to relay to; forgotten when the case closes."""
    status: Status
    priority: Priority
    lang: str
    country: str | None
    contact: Contact
    contact_detail: str | None = None
    """An email address or phone number, only when the person gave one."""
    display_name: str | None = None
    """Only when the person chose to share it."""
    note: str | None = None
    assignee: str | None = None
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    claimed_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    announced_at: dt.datetime | None = None
    """When staff were last told about it (the first notice, then re-announcements)."""
    oncall_at: dt.datetime | None = None
    """When a crisis case waiting too long went to the on-call route."""
    feedback: str | None = None


@dataclass(frozen=True, slots=True)
class CaseMessage:
    at: dt.datetime
    author: str
    """"person", "staff" or "bot"."""
    text: str
    staff_id: str | None = None


@dataclass(frozen=True, slots=True)
class StaffActor:
    """Someone acting on cases, as an adapter or the terminal identifies them.

    `verified` is set by an adapter that has itself checked membership (a
    message from inside the Telegram staff group, a member with the Discord
    staff role); otherwise `id` must be in the staff list in the store.
    """

    id: str
    """Platform-qualified: "telegram:4711", "discord:99", "console:alex"."""
    name: str
    verified: bool = False


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    name: str
    anonymous: bool = True
    """Replies show as "Case manager" unless the member chose to be named."""
