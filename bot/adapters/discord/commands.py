"""Slash commands: the engine's commands (bot/commands.py) plus `/setup-staff`.

Names and descriptions are sent to Discord in every supported language: the
description of `/x` is the text `cmd_x`, its localized name `discord_name_x`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.commands import COMMANDS
from bot.config import LANGUAGES
from bot.language import from_locale
from bot.texts import Texts

RunCommand = Callable[[discord.Interaction[Any], str], Awaitable[None]]
SetupStaff = Callable[
    [discord.Interaction[Any], discord.TextChannel, discord.Role | None], Awaitable[None]
]


class TextsTranslator(app_commands.Translator):
    """Looks command strings up in the bot's texts by their `key` extra."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        lang = from_locale(locale.value, LANGUAGES)
        key = string.extras.get("key")
        if lang is None or lang == "en" or not key:
            return None
        return self.texts.get(lang, key)


def _engine_command(
    texts: Texts, name: str, payload: str, run: RunCommand
) -> app_commands.Command[Any, ..., None]:
    async def callback(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, payload)

    return app_commands.Command(
        name=app_commands.locale_str(name, key=f"discord_name_{name}"),
        description=app_commands.locale_str(texts.get("en", f"cmd_{name}"), key=f"cmd_{name}"),
        callback=callback,
    )


def _setup_command(texts: Texts, setup: SetupStaff) -> app_commands.Command[Any, ..., None]:
    @app_commands.default_permissions(administrator=True)
    @app_commands.guild_only()
    async def setup_staff(
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        role: discord.Role | None = None,
    ) -> None:
        await setup(interaction, channel, role)

    return app_commands.Command(
        name="setup-staff",
        description=app_commands.locale_str(
            texts.get("en", "discord_setup_description"), key="discord_setup_description"
        ),
        callback=setup_staff,
    )


def add_commands(
    tree: app_commands.CommandTree[Any], texts: Texts, run: RunCommand, setup: SetupStaff
) -> None:
    for name, payload in COMMANDS.items():
        tree.add_command(_engine_command(texts, name, payload, run))
    tree.add_command(_setup_command(texts, setup))
