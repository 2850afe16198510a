"""The Discord client: DMs, mentions, slash commands and buttons into the engine.

Where the bot speaks, and why:
- DMs are the conversation. Everything the engine says goes there.
- In server channels the bot answers only when mentioned (or by slash
  command, ephemerally), so it never barges into a community's talk.
- A crisis message in a public channel is never quoted or replied to: the
  crisis reply goes to the person's DMs first, then a gentle note in the
  channel, then an alert (a link, no text) to the server's staff.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.adapters.discord.commands import TextsTranslator, add_commands
from bot.adapters.discord.errors import DELIVERY_FAILURES, delivery_error
from bot.adapters.discord.render import (
    EngineButton,
    PressHandler,
    Rendered,
    StaffButton,
    render,
)
from bot.adapters.discord.staff import DiscordMessenger, DiscordStaffChannel
from bot.config import LANGUAGES
from bot.engine import Engine
from bot.handoff.channel import parse_staff_action
from bot.handoff.desk import Refused
from bot.handoff.models import StaffActor
from bot.language import from_locale
from bot.messages import Inbound, Reply, Response
from bot.outbound import DeliveryError
from bot.safety.screen import Level
from bot.textnorm import clean_input

log = logging.getLogger(__name__)

PLATFORM = "discord"
_MENTION = re.compile(r"<@[!&]?\d+>")


def intents(message_content: bool) -> discord.Intents:
    """The gateway intents the bot needs, and nothing more.

    `guilds`: servers, channels, roles and threads (setup, alerts, staff threads).
    `guild_messages`: messages in server channels; without message content,
    Discord sends the text only of messages that mention the bot.
    `dm_messages`: the conversation itself (DMs always carry their text).
    `message_content` (privileged) only with a staff channel: case managers
    write in case threads without mentioning the bot.
    """
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.dm_messages = True
    chosen.message_content = message_content
    return chosen


def language_only(locale: discord.Locale) -> str:
    """ "pt-BR" -> "pt": a Discord locale is the app's language, not where the person
    is (Discord has no pt-PT, and en-US is everyone's default), so it must not pick
    the crisis lines' country."""
    return locale.value.split("-")[0]


class DiscordBot(discord.Client, PressHandler):
    """One bot process; `engine` answers, this only translates."""

    def __init__(
        self,
        engine: Engine,
        *,
        staff_channel_id: int | None = None,
        staff_role_id: int | None = None,
        connector: aiohttp.BaseConnector | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            intents=intents(message_content=staff_channel_id is not None),
            connector=connector,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.engine = engine
        self.texts = engine.services.texts
        self.staff_channel_id = staff_channel_id
        self.staff_role_id = staff_role_id
        self.tree: app_commands.CommandTree[DiscordBot] = app_commands.CommandTree(self)
        add_commands(self.tree, self.texts, self.run_command, self.setup_staff)

    async def setup_hook(self) -> None:
        """After login, before the gateway: commands, buttons, and the outbox."""
        self.add_dynamic_items(EngineButton, StaffButton)
        await self.tree.set_translator(TextsTranslator(self.texts))
        await self.tree.sync()
        if self.staff_channel_id is not None:
            self.engine.outbox.add_channel(DiscordStaffChannel(self, self.staff_channel_id))
        self.engine.outbox.add_messenger(DiscordMessenger(self))
        await self.engine.start()

    # -- inbound -------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.type not in (
            discord.MessageType.default,
            discord.MessageType.reply,
        ):
            return
        if message.guild is None:
            response = await self.engine.handle(self._inbound(message.author, text=message.content))
            await self._send_dm(message.author, response.replies)
        elif self._is_staff_place(message.channel):
            if isinstance(message.channel, discord.Thread):
                await self._staff_message(message, message.channel)
        elif self.user is not None and self.user in message.mentions:
            text = _MENTION.sub(" ", message.content).strip()
            response = await self.engine.handle(
                self._inbound(message.author, text=text, private=False)
            )
            await self._answer_in_channel(message, response)
        elif message.content:
            await self._watch(message)

    async def _watch(self, message: discord.Message) -> None:
        """A message not addressed to the bot (visible only with message content):
        the bot stays silent unless it is a crisis."""
        verdict = self.engine.services.screen.screen(clean_input(message.content))
        if verdict.level is not Level.CRISIS:
            return
        response = await self.engine.handle(
            self._inbound(message.author, text=message.content, private=False)
        )
        if response.crisis:
            await self._answer_in_channel(message, response)

    @staticmethod
    def _inbound(
        user: discord.abc.User,
        *,
        text: str = "",
        payload: str | None = None,
        locale: str | None = None,
        private: bool = True,
    ) -> Inbound:
        """`chat_id` is the person's own id: replies and relays reach them by DM."""
        return Inbound(
            platform=PLATFORM,
            user_id=str(user.id),
            chat_id=str(user.id),
            text=text,
            payload=payload,
            locale=locale,
            private=private,
            display_name=user.display_name,
        )

    def _is_staff_place(self, channel: Any) -> bool:
        """The staff channel and its case threads are never screened or answered."""
        if self.staff_channel_id is None:
            return False
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return self.staff_channel_id in ids

    # -- answering in a server channel ---------------------------------------------

    async def _answer_in_channel(self, message: discord.Message, response: Response) -> None:
        """Private replies (the crisis reply) first, by DM; then the channel."""
        author = message.author
        lang = response.lang
        private = [r for r in response.replies if r.private]
        public = [r for r in response.replies if not r.private]
        dm_open = await self._send_dm(author, private) if private else True
        if response.crisis:
            if dm_open:
                notes = [f"{author.mention} {reply.text}" for reply in public]
            else:
                notes = [self.texts.get(lang, "discord_dm_closed_crisis", mention=author.mention)]
            await self._post(message.channel, [Rendered(note) for note in notes], mention=author)
            if message.guild is not None:
                await self._alert_staff(message, message.guild)
            return
        if public and not await self._post(message.channel, render(public), reply_to=message):
            note = self.texts.get(lang, "discord_no_channel_permission")
            await self._send_dm(author, [Reply(note), *public])
        if not dm_open:
            note = self.texts.get(lang, "discord_dm_closed", mention=author.mention)
            await self._post(message.channel, [Rendered(note)], mention=author)

    async def _post(
        self,
        channel: discord.abc.Messageable,
        messages: Sequence[Rendered],
        *,
        reply_to: discord.Message | None = None,
        mention: discord.abc.User | None = None,
    ) -> bool:
        """Post to a channel; False when the bot may not (logged, never raised)."""
        extra: dict[str, Any] = {
            "allowed_mentions": discord.AllowedMentions(users=[mention] if mention else False)
        }
        if reply_to is not None:
            extra["reference"] = reply_to
        try:
            for rendered in messages:
                await channel.send(**rendered.kwargs(), **extra)
                extra.pop("reference", None)
        except discord.Forbidden as exc:
            log.warning("cannot post in a channel (code %s)", exc.code)
            return False
        except discord.HTTPException as exc:
            log.error("posting failed (HTTP %s)", exc.status)
            return False
        return True

    async def _send_dm(self, user: discord.abc.Snowflake, replies: Sequence[Reply]) -> bool:
        """DM replies; False when the person's DMs are closed or it failed."""
        try:
            await self.send_dm(user, replies)
        except DeliveryError as exc:
            log.warning("DM not delivered: %s", exc)
            if not exc.permanent:  # nothing lost: the outbox tries again, even after a restart
                await self.engine.outbox.defer(PLATFORM, str(user.id), replies[exc.delivered :])
            return False
        return True

    async def send_dm(self, user: discord.abc.Snowflake, replies: Sequence[Reply]) -> None:
        """DM replies in order, or raise DeliveryError (permanent for closed DMs)."""
        delivered = 0
        try:
            channel = await self.create_dm(user)
            for reply in replies:
                for rendered in render([reply]):
                    await channel.send(**rendered.kwargs())
                delivered += 1
        except DELIVERY_FAILURES as exc:
            error = delivery_error(exc)
            error.delivered = delivered
            raise error from exc

    async def _alert_staff(self, message: discord.Message, guild: discord.Guild) -> None:
        """Tell the server's staff someone may need support: a link, never the words."""
        store = self.engine.store
        try:
            channel_id = await store.get_setting(PLATFORM, str(guild.id), "staff_channel")
            role_id = await store.get_setting(PLATFORM, str(guild.id), "staff_role")
        except Exception as exc:
            log.error("staff settings unavailable (%s)", type(exc).__name__)
            return
        channel = guild.get_channel(int(channel_id)) if channel_id else None
        if not isinstance(channel, discord.TextChannel):
            log.warning("crisis in a server without a staff channel: guild=%s", guild.id)
            return
        role = guild.get_role(int(role_id)) if role_id else None
        lang = from_locale(guild.preferred_locale.value, LANGUAGES) or "en"
        text = self.texts.get(
            lang, "discord_staff_alert", channel=f"<#{message.channel.id}>", link=message.jump_url
        )
        try:
            await channel.send(
                f"{role.mention} {text}" if role else text,
                allowed_mentions=discord.AllowedMentions(roles=[role] if role else False),
            )
        except discord.HTTPException as exc:
            log.error("staff alert failed (HTTP %s, code %s)", exc.status, exc.code)

    # -- interactions ----------------------------------------------------------------

    def _interaction_inbound(self, interaction: discord.Interaction[Any], payload: str) -> Inbound:
        locale = language_only(interaction.locale)
        return self._inbound(interaction.user, payload=payload, locale=locale)

    async def run_command(self, interaction: discord.Interaction[Any], payload: str) -> None:
        response = await self.engine.handle(self._interaction_inbound(interaction, payload))
        await self._answer_interaction(interaction, response)

    async def engine_press(self, interaction: discord.Interaction[Any], payload: str) -> None:
        response = await self.engine.handle(self._interaction_inbound(interaction, payload))
        await self._answer_interaction(interaction, response)

    # -- staff -------------------------------------------------------------------------

    async def _actor(self, user: discord.abc.User, guild: discord.Guild | None) -> StaffActor:
        """Verified when the person holds the staff role; else the desk checks its list."""
        role_id = self.staff_role_id
        if role_id is None and guild is not None:
            saved = await self.engine.store.get_setting(PLATFORM, str(guild.id), "staff_role")
            role_id = int(saved) if saved else None
        roles = {role.id for role in getattr(user, "roles", ())}
        verified = role_id is not None and role_id in roles
        return StaffActor(f"{PLATFORM}:{user.id}", user.display_name, verified)

    async def staff_press(self, interaction: discord.Interaction[Any], data: str) -> None:
        parsed = parse_staff_action(data)
        answer = "Unknown button."
        if parsed is not None and self._is_staff_place(interaction.channel):
            action, case_id = parsed
            actor = await self._actor(interaction.user, interaction.guild)
            desk = self.engine.desk
            try:
                case = await (desk.claim if action == "claim" else desk.close)(case_id, actor)
                answer = f"Case {case.id}: {case.status.value}."
            except Refused as exc:
                answer = str(exc)
        await interaction.response.send_message(answer, ephemeral=True)

    async def _staff_message(self, message: discord.Message, thread: discord.Thread) -> None:
        """A case manager writing in a case's thread: relayed to the person."""
        case_id = await self.engine.desk.case_for_thread(PLATFORM, str(thread.id))
        if case_id is None:
            return
        actor = await self._actor(message.author, message.guild)
        try:
            await self.engine.desk.staff_reply(case_id, actor, message.content)
        except Refused as exc:
            await self._post(thread, [Rendered(str(exc))], reply_to=message)
            return
        try:
            await message.add_reaction("\N{WHITE HEAVY CHECK MARK}")
        except discord.HTTPException as exc:
            log.warning("could not confirm a relayed reply (HTTP %s)", exc.status)

    # -- answering interactions -----------------------------------------------------

    async def _answer_interaction(
        self, interaction: discord.Interaction[Any], response: Response
    ) -> None:
        """In servers only the person sees the answer; in DMs it stays in the chat."""
        ephemeral = interaction.guild is not None
        messages = render(response.replies) or [
            Rendered(self.texts.get(response.lang, "discord_done"))
        ]
        try:
            for rendered in messages:
                if interaction.response.is_done():
                    await interaction.followup.send(**rendered.kwargs(), ephemeral=ephemeral)
                else:
                    await interaction.response.send_message(
                        **rendered.kwargs(), ephemeral=ephemeral
                    )
        except discord.HTTPException as exc:
            log.error("interaction answer failed (HTTP %s, code %s)", exc.status, exc.code)

    async def setup_staff(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        role: discord.Role | None,
    ) -> None:
        """Admins choose where crisis alerts go; checked here too, as servers can
        override a command's default permissions."""
        lang = from_locale(interaction.locale.value, LANGUAGES) or "en"
        guild = interaction.guild
        values: dict[str, str] = {}
        if guild is None:
            key = "discord_setup_server_only"
        elif not interaction.permissions.administrator:
            key = "discord_setup_admins_only"
        elif not channel.permissions_for(guild.me).send_messages:
            key, values = "discord_setup_cannot_post", {"channel": channel.mention}
        else:
            scope = str(guild.id)
            await self.engine.store.set_setting(PLATFORM, scope, "staff_channel", str(channel.id))
            await self.engine.store.set_setting(
                PLATFORM, scope, "staff_role", str(role.id) if role else None
            )
            key = "discord_setup_done_role" if role else "discord_setup_done"
            values = {"channel": channel.mention, "role": role.mention if role else ""}
        await interaction.response.send_message(self.texts.get(lang, key, **values), ephemeral=True)
