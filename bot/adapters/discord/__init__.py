"""The Discord adapter: `python -m bot discord` (see README, "Discord")."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.adapters.discord.client import PLATFORM, DiscordBot, intents
from bot.app import open_engine
from bot.config import Paths

__all__ = ["PLATFORM", "ConfigError", "DiscordBot", "DiscordConfig", "intents", "run"]


class ConfigError(ValueError):
    """A missing or malformed setting, said plainly for the person starting the bot."""


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str
    staff_channel_id: int | None = None
    staff_role_id: int | None = None

    @classmethod
    def from_env(cls) -> DiscordConfig:
        token = os.environ.get("DISCORD_BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError("DISCORD_BOT_TOKEN is not set: put the bot's token there.")
        return cls(
            token, _snowflake("DISCORD_STAFF_CHANNEL_ID"), _snowflake("DISCORD_STAFF_ROLE_ID")
        )


def _snowflake(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ConfigError(f"{name} must be a Discord id (digits only), not {value!r}.")
    return int(value)


async def run(config: DiscordConfig, paths: Paths) -> None:
    """Run until stopped; discord.py reconnects and resumes by itself."""
    engine = await open_engine(paths)
    bot = DiscordBot(
        engine, staff_channel_id=config.staff_channel_id, staff_role_id=config.staff_role_id
    )
    try:
        async with bot:
            await bot.start(config.token)
    finally:
        await engine.aclose()
