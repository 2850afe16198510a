"""The console adapter: a conversation in the terminal.

Buttons are shown as numbered choices; typing the number presses the button.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from bot.engine import Engine
from bot.messages import Button, Inbound, Reply

PLATFORM = "console"
QUIT = {"/quit", "/exit", "/q"}


def render(replies: list[Reply], out: TextIO) -> list[Button]:
    """Print replies; return the buttons now on screen, in the numbered order."""
    buttons: list[Button] = []
    for reply in replies:
        out.write(f"\nbot> {reply.text}\n")
        for button in reply.buttons:
            buttons.append(button)
            out.write(f"   [{len(buttons)}] {button.label}\n")
    out.flush()
    return buttons


async def chat(
    engine: Engine,
    lang: str | None = None,
    country: str | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> None:
    user = getpass.getuser()
    out.write("Console chat with the support bot. Type /quit to leave.\n")
    buttons: list[Button] = []
    loop = asyncio.get_running_loop()
    while True:
        out.write("\nyou> ")
        out.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip() in QUIT:
            out.write("\n")
            return
        text = line.rstrip("\n")
        payload = None
        if text.strip().isdigit() and 1 <= int(text.strip()) <= len(buttons):
            payload, text = buttons[int(text.strip()) - 1].payload, ""
        inbound = Inbound(
            platform=PLATFORM,
            user_id=user,
            chat_id=user,
            text=text,
            payload=payload,
            locale=lang,
            country=country,
        )
        response = await engine.handle(inbound)
        buttons = render(response.replies, out)
