"""Slash commands every platform offers, as engine button payloads.

Adapters register these names with their platform (Telegram `setMyCommands`,
Discord `app_commands`) and turn a command into `Inbound(payload=...)`; the
description shown in the platform's menu is the text `cmd_<name>`.
"""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "start": "intent:menu",
    "help": "intent:menu",
    "crisis": "intent:crisis_lines",
    "talk": "intent:talk_to_human",
    "language": "intent:language",
    "country": "country:ask",
    "privacy": "intent:privacy",
    "forget": "forget:ask",
    "export": "export:me",
    "checkin": "intent:checkin",
    "end": "case:end",
}
"""Command name -> payload. Order is the order shown in menus."""

START_LINKS: dict[str, str] = {
    "crisis": "intent:crisis_lines",
    "talk": "intent:talk_to_human",
    "checkin": "intent:checkin",
    "family": "intent:family",
}
"""Deep-link arguments (Telegram `?start=crisis`) -> payload; anything else is /start."""


def command_payload(name: str, argument: str = "") -> str | None:
    """The payload for `/name argument`, or None for a command we do not have."""
    name = name.lower().lstrip("/")
    if name == "start" and argument in START_LINKS:
        return START_LINKS[argument]
    return COMMANDS.get(name)
