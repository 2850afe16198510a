"""Case managers on Discord: a thread per case in the home staff channel.

The outbox calls `DiscordStaffChannel.post` for every case notice and
`DiscordMessenger.send` for every message to a person (a case manager's
reply, a claim, a close). Staff act back through buttons (claim, close) and by
writing in the case's thread; `DiscordBot` hands those to the desk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.adapters.discord.errors import DELIVERY_FAILURES, delivery_error
from bot.adapters.discord.render import Rendered, StaffButton, chunks, view_of
from bot.handoff.channel import Notice, staff_action_payload
from bot.messages import Reply
from bot.outbound import DeliveryError

if TYPE_CHECKING:
    from bot.adapters.discord.client import DiscordBot

_LABELS = {"claim": "discord_staff_claim", "close": "discord_staff_close"}


class DiscordStaffChannel:
    """The staff side of a case: its first notice opens a thread, later ones go there."""

    def __init__(self, bot: DiscordBot, channel_id: int, name: str = "discord") -> None:
        self.bot = bot
        self.channel_id = channel_id
        self.name = name

    async def post(self, notice: Notice, thread: str | None) -> str | None:
        texts = self.bot.texts
        buttons = [
            StaffButton(
                staff_action_payload(action, notice.case.id), texts.get("en", _LABELS[action])
            )
            for action in notice.actions
        ]
        messages = [Rendered(piece) for piece in chunks(notice.text)]
        messages[-1] = Rendered(messages[-1].content, view_of(buttons))
        try:
            if thread is None:
                home = self.bot.get_channel(self.channel_id)
                if not isinstance(home, discord.TextChannel):
                    raise DeliveryError("the staff channel is not a text channel I can see")
                first = await home.send(**messages.pop(0).kwargs())
                created = await first.create_thread(name=f"Case {notice.case.id}")
                thread = str(created.id)
            target = self.bot.get_partial_messageable(int(thread))
            for message in messages:
                await target.send(**message.kwargs())
        except DELIVERY_FAILURES as exc:
            raise delivery_error(exc) from exc
        return thread


class DiscordMessenger:
    """Reaches a person in their DMs (the chat id is their user id)."""

    platform = "discord"

    def __init__(self, bot: DiscordBot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        await self.bot.send_dm(discord.Object(int(chat_id)), replies)
