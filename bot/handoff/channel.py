"""The interface a staff channel implements: show a case to case managers.

A channel only posts. What staff do in it (claim, reply, close) comes back
through the adapter, which calls `bot.handoff.desk.Desk` with a `StaffActor`.
Every post goes through the outbox, so a channel may be slow or down.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.handoff.models import Case


class NoticeKind(StrEnum):
    OPENED = "opened"
    REANNOUNCE = "reannounce"
    """Still unclaimed past the target response time."""
    ONCALL = "oncall"
    """A crisis case unclaimed too long; only for channels routed as on-call."""
    CLAIMED = "claimed"
    PERSON = "person"
    """A message from the person, relayed."""
    STAFF = "staff"
    """A reply by a case manager, echoed to the other staff channels."""
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    case: Case
    text: str
    """Ready to show: for OPENED the full summary (id, priority, language,
    country, contact, note); for PERSON the person's words."""
    key: str
    """Stable across retries: a channel that can deduplicate uses it."""

    @property
    def actions(self) -> tuple[str, ...]:
        """The buttons staff should get with this notice: "claim" and/or "close"."""
        status = self.case.status.value
        return ("claim", "close") if status == "open" else ("close",) if status == "claimed" else ()


class StaffChannel(Protocol):
    name: str
    """Unique per running bot ("telegram", "discord", "email", "oncall")."""

    async def post(self, notice: Notice, thread: str | None) -> str | None:
        """Show a notice to staff.

        `thread` is what this channel returned earlier for the same case (a
        forum topic id, a Discord thread id, an email Message-ID), None on the
        first notice. Return the thread to use for the case from now on.
        Raise bot.outbound.DeliveryError when it could not be shown.
        """
        ...


STAFF_ACTIONS = ("claim", "close")


def staff_action_payload(action: str, case_id: str) -> str:
    """Button data for a staff action (at most 40 bytes: fits Telegram and Discord)."""
    return f"staff:{action}:{case_id}"


def parse_staff_action(data: str) -> tuple[str, str] | None:
    """(action, case id) from button data made by `staff_action_payload`, else None."""
    prefix, _, rest = data.partition(":")
    action, _, case_id = rest.partition(":")
    if prefix != "staff" or action not in STAFF_ACTIONS or not case_id.isascii():
        return None
    return action, case_id
