"""Engine replies as Discord messages: text plus buttons that survive restarts.

A button's custom id is the engine payload behind a fixed prefix. The buttons
are `DynamicItem`s, so a press is recognised from its custom id alone, even on
a message sent before the bot restarted; the engine checks the payload again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.messages import Button, Reply

MAX_CONTENT = 2000
"""Discord's limit on a message's text."""
MAX_BUTTONS = 25
"""Five rows of five."""
MAX_LABEL = 80
ENGINE_PREFIX = "mcb:"
STAFF_PREFIX = "staff:"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One Discord message: the keyword arguments every send method accepts."""

    content: str
    view: discord.ui.View | None = None

    def kwargs(self) -> dict[str, Any]:
        return (
            {"content": self.content, "view": self.view} if self.view else {"content": self.content}
        )


class PressHandler:
    """What a button press is handed to; the running client implements it."""

    async def engine_press(self, interaction: discord.Interaction[Any], payload: str) -> None:
        raise NotImplementedError

    async def staff_press(self, interaction: discord.Interaction[Any], data: str) -> None:
        raise NotImplementedError


class EngineButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(re.escape(ENGINE_PREFIX) + r"(?P<payload>[!-~]{1,90})"),
):
    """A button carrying an engine payload."""

    def __init__(self, payload: str, label: str = "…") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:MAX_LABEL],
                style=discord.ButtonStyle.secondary,
                custom_id=ENGINE_PREFIX + payload,
            )
        )
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> EngineButton:
        return cls(match["payload"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, PressHandler):
            await client.engine_press(interaction, self.payload)


class StaffButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(re.escape(STAFF_PREFIX) + r"(?P<rest>[!-~]{1,90})"),
):
    """A claim or close button on a case in the staff channel."""

    def __init__(self, data: str, label: str = "…") -> None:
        style = discord.ButtonStyle.primary if ":claim:" in data else discord.ButtonStyle.danger
        super().__init__(discord.ui.Button(label=label[:MAX_LABEL], style=style, custom_id=data))
        self.data = data

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> StaffButton:
        return cls(match[0])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, PressHandler):
            await client.staff_press(interaction, self.data)


def view_of(items: Sequence[discord.ui.Item[Any]]) -> discord.ui.View | None:
    if not items:
        return None
    view = discord.ui.View(timeout=None)
    for item in items[:MAX_BUTTONS]:
        view.add_item(item)
    return view


def engine_view(buttons: Sequence[Button]) -> discord.ui.View | None:
    return view_of([EngineButton(b.payload, b.label) for b in buttons])


def chunks(text: str, limit: int = MAX_CONTENT) -> Iterator[str]:
    """Split at line ends (else hard) so every piece fits one message."""
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    yield text


def render(replies: Sequence[Reply]) -> list[Rendered]:
    """Every reply as one or more messages; the buttons go with its last piece."""
    out: list[Rendered] = []
    for reply in replies:
        pieces = list(chunks(reply.text or "…"))
        out += [Rendered(piece) for piece in pieces[:-1]]
        out.append(Rendered(pieces[-1], engine_view(reply.buttons)))
    return out
