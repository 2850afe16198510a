"""The console adapter: a conversation in the terminal.

Buttons are shown as numbered choices; typing the number presses the button,
and the platforms' slash commands work too (`/crisis`, `/talk`, `/end`).
Messages the bot sends on its own (a case manager's reply) are printed as
they arrive, through the same rendering.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.commands import command_payload
from bot.engine import Engine
from bot.messages import Button, Inbound, Reply

PLATFORM = "console"
QUIT = {"/quit", "/exit", "/q"}
PROMPT = "\nyou> "


class ConsoleChat:
    """One person at the terminal; also the `Messenger` that reaches them there."""

    platform = PLATFORM

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.buttons: list[Button] = []

    def render(self, replies: Sequence[Reply]) -> None:
        """Print replies; the buttons now on screen replace the earlier ones."""
        self.buttons = []
        for reply in replies:
            self.out.write(f"\nbot> {reply.text}\n")
            for button in reply.buttons:
                self.buttons.append(button)
                self.out.write(f"   [{len(self.buttons)}] {button.label}\n")
        self.out.flush()

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        self.render(replies)
        self.out.write(PROMPT)
        self.out.flush()

    def inbound(self, line: str, user: str, lang: str | None, country: str | None) -> Inbound:
        text, payload = line.rstrip("\n"), None
        choice = text.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self.buttons):
            payload, text = self.buttons[int(choice) - 1].payload, ""
        elif choice.startswith("/"):
            name, _, argument = choice.partition(" ")
            payload = command_payload(name, argument.strip())
            text = "" if payload else text
        return Inbound(
            platform=PLATFORM,
            user_id=user,
            chat_id=user,
            text=text,
            payload=payload,
            locale=lang,
            country=country,
            display_name=user,
        )


async def chat(
    engine: Engine,
    lang: str | None = None,
    country: str | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> None:
    user = getpass.getuser()
    console = ConsoleChat(out)
    engine.outbox.add_messenger(console)
    await engine.start()
    out.write("Console chat with the support bot. Type /quit to leave.\n")
    loop = asyncio.get_running_loop()
    while True:
        out.write(PROMPT)
        out.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip() in QUIT:
            out.write("\n")
            return
        response = await engine.handle(console.inbound(line, user, lang, country))
        console.render(response.replies)
