"""Recording stand-ins for a staff channel and a platform messenger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.handoff.channel import Notice
from bot.messages import Reply
from bot.outbound import DeliveryError


@dataclass
class RecordingChannel:
    name: str = "staffroom"
    posts: list[tuple[Notice, str | None]] = field(default_factory=list)
    fail_next: int = 0

    async def post(self, notice: Notice, thread: str | None) -> str | None:
        if self.fail_next:
            self.fail_next -= 1
            raise DeliveryError("staff room unreachable")
        self.posts.append((notice, thread))
        return thread or f"thread-{notice.case.id}"

    @property
    def texts(self) -> list[str]:
        return [notice.text for notice, _ in self.posts]


@dataclass
class RecordingMessenger:
    platform: str = "console"
    sent: list[tuple[str, list[Reply]]] = field(default_factory=list)
    unreachable: bool = False

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        if self.unreachable:
            raise DeliveryError("blocked by the person", permanent=True)
        self.sent.append((chat_id, list(replies)))

    @property
    def texts(self) -> list[str]:
        return [reply.text for _, replies in self.sent for reply in replies]
