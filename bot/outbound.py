"""Messages the bot sends on its own: a case manager's reply, a reminder.

Most replies answer an inbound message and go back the way it came. These
do not, so each platform adapter registers a `Messenger` that can reach a
person by the chat id the adapter itself put in `Inbound.chat_id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.messages import Reply


class DeliveryError(Exception):
    """A message could not be delivered now.

    `permanent` means retrying cannot help (the person blocked the bot, closed
    their DMs, the chat is gone); otherwise the outbox retries with backoff,
    no sooner than `retry_after` seconds when the platform said so.
    """

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after
        self.delivered = 0
        """How many of the replies being sent got through before this failure."""


class Messenger(Protocol):
    platform: str
    """The `Inbound.platform` this messenger reaches ("telegram", "discord", "console")."""

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """Send replies (with their buttons) to a person; raise DeliveryError on failure."""
        ...
