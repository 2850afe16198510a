"""A bot process that dies at a chosen step of an escalation (run by test_restart.py).

CRASH_AT: "after_case" (case written, nothing sent), "in_send" (dies inside the
SMTP send), "after_send" (sent, not yet marked sent), or "" (no crash: open a
case if asked, then deliver what is pending and exit).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import aiosmtplib

from bot.app import open_engine
from bot.config import Paths
from bot.handoff import email as email_channel
from bot.messages import Inbound
from bot.store.sqlite import SQLiteStore


def die_after(owner: Any, name: str, before: bool = False) -> None:
    original = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            os._exit(9)
        result = await original(*args, **kwargs)
        os._exit(9)
        return result

    setattr(owner, name, wrapper)


async def main(crash_at: str, open_case: bool) -> None:
    engine = await open_engine(Paths.from_env())
    engine.outbox.lease = 0.5
    if crash_at == "after_case":
        die_after(SQLiteStore, "create_case")
    elif crash_at == "in_send":
        die_after(aiosmtplib, "send", before=True)
        email_channel.aiosmtplib = aiosmtplib
    elif crash_at == "after_send":
        die_after(SQLiteStore, "outbox_done", before=True)
    if open_case:
        for text, payload in (
            ("talk to a person", None),
            ("", "handoff:yes"),
            ("", "handoff:chat"),
            ("", "handoff:skip"),
        ):
            await engine.handle(Inbound("console", "zoe", "zoe", text=text, payload=payload))
    await asyncio.sleep(0.6)  # a dead process's lease runs out
    await engine.outbox.run_once()
    await engine.aclose()


if __name__ == "__main__":
    asyncio.run(main(os.environ.get("CRASH_AT", ""), sys.argv[1:] == ["open"]))
