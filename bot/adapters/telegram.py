"""The Telegram adapter: python-telegram-bot's Application around the engine.

Every person's words (a message, a caption, an edit, words after a command)
go through `engine.handle`, so the crisis screen sees all of them. Updates are
handled concurrently, so a crisis reply never waits behind another person's
slow or retrying send. Private chats get the full conversation; in groups the
bot answers only when addressed, and what the engine marks private goes to
the person's own chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.adapters.telegram_send import (
    PLATFORM,
    ButtonSigner,
    CrisisFirstLimiter,
    RetryPolicy,
    Sender,
    TelegramMessenger,
)
from bot.adapters.telegram_staff import TelegramStaffGroup
from bot.commands import COMMANDS, command_payload
from bot.config import LANGUAGES
from bot.engine import Engine
from bot.messages import Button, Inbound, Reply, Response
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)

LANGUAGE_LOOKUP_TIMEOUT = 0.5
"""Seconds to wait for a person's chosen language before using their app's language."""
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+(.*))?$", re.DOTALL)
_FALLBACK = ("menu", "crisis_lines", "talk_to_human")

TgApp = Application[ExtBot[bool], Any, Any, Any, Any, Any]
TgContext = ContextTypes.DEFAULT_TYPE


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token: str
    api_base_url: str | None = None
    """A local Bot API server (or a test fake), e.g. http://127.0.0.1:8081."""
    webhook_secret: str | None = None
    staff_chat_id: int | None = None

    @classmethod
    def from_env(cls) -> TelegramSettings | None:
        """None when TELEGRAM_BOT_TOKEN is missing; the token never comes from a file."""
        token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            return None
        staff = os.environ.get("TELEGRAM_STAFF_CHAT_ID", "").strip()
        return cls(
            token=token,
            api_base_url=os.environ.get("TELEGRAM_API_BASE_URL") or None,
            webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or None,
            staff_chat_id=int(staff) if staff else None,
        )


def parse_command(text: str) -> tuple[str, str | None, str] | None:
    """("start", "MyBot" or None, "crisis") from "/start@MyBot crisis"."""
    found = _COMMAND.match(text.strip())
    if not found:
        return None
    return found[1].lower(), found[2], (found[3] or "").strip()


def addressed(message: Message, bot_id: int, username: str) -> bool:
    """In a group: a command, an @mention of the bot, or a reply to one of its messages."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    text = message.text or message.caption or ""
    if text.startswith("/"):
        return True
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    for entity, words in entities.items():
        if entity.type == MessageEntity.MENTION and words.lower() == f"@{username.lower()}":
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


def without_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def media_kind(message: Message) -> str:
    """The text key of the kind reply to a message without words."""
    if message.sticker:
        return "tg_sticker"
    if message.voice or message.audio or message.video_note:
        return "tg_voice"
    if message.photo or message.video or message.document or message.animation:
        return "tg_photo"
    if message.location or message.venue:
        return "tg_location"
    return "tg_other"


class TelegramAdapter:
    """Turns updates into `Inbound`, and `Response.replies` into Telegram messages."""

    def __init__(
        self,
        settings: TelegramSettings,
        open_engine: Callable[[], Awaitable[Engine]],
        limiter: AIORateLimiter | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines hold the token
        self.settings = settings
        self._open_engine = open_engine
        self._policy = policy
        builder = (
            ApplicationBuilder()
            .token(settings.token)
            .concurrent_updates(256)
            .rate_limiter(CrisisFirstLimiter(limiter or AIORateLimiter(max_retries=3)))
            .post_init(self.setup)
        )
        if settings.api_base_url:
            base = settings.api_base_url.rstrip("/")
            builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        self.app: TgApp = builder.build()
        self.staff: TelegramStaffGroup | None = None
        messages = filters.UpdateType.MESSAGES & ~filters.StatusUpdate.ALL
        if settings.staff_chat_id is not None:
            staff_chat = filters.Chat(settings.staff_chat_id)
            self.app.add_handler(MessageHandler(messages & staff_chat, self.on_staff_message))
            messages = messages & ~staff_chat
        self.app.add_handler(CallbackQueryHandler(self.on_callback))
        self.app.add_handler(MessageHandler(messages & ~filters.ChatType.CHANNEL, self.on_message))
        self.app.add_error_handler(self.on_error)

    # -- start-up ---------------------------------------------------------------

    async def setup(self, app: TgApp) -> None:
        """post_init: open the engine, register the command menus, and join the
        handoff: relays to people, and the staff group when one is configured."""
        self.engine = await self._open_engine()
        self.signer = ButtonSigner(self.engine.pseudonyms)
        self.sender = Sender(app.bot, self.signer, self._policy)
        await self.set_commands()
        self.engine.outbox.add_messenger(TelegramMessenger(self.sender))
        if self.settings.staff_chat_id is not None:
            self.staff = TelegramStaffGroup(
                app.bot, self.settings.staff_chat_id, self.sender, self.engine.desk
            )
            self.engine.outbox.add_channel(self.staff)
        await self.engine.start()

    async def set_commands(self) -> None:
        """The `/` menu in each supported language, English for everyone else."""
        texts = self.engine.services.texts
        for lang in (None, *LANGUAGES):
            commands = [BotCommand(n, texts.get(lang or "en", f"cmd_{n}")) for n in COMMANDS]
            call = functools.partial(self.app.bot.set_my_commands, commands, language_code=lang)
            await self.sender.attempt(call)

    async def close(self, app: TgApp) -> None:
        """post_shutdown when the adapter owns the engine (`python -m bot telegram`)."""
        await self.engine.aclose()

    # -- people -----------------------------------------------------------------

    async def on_message(self, update: Update, context: TgContext) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot:
            return
        bot = self.app.bot
        private = message.chat.type == ChatType.PRIVATE
        if not private and not addressed(message, bot.id, bot.username):
            return
        words = message.text or message.caption or ""
        if not private:
            words = without_mention(words, bot.username)
        payload = None
        command = parse_command(message.text) if message.text and update.message else None
        if command is not None:
            name, target, argument = command
            if target is not None and target.lower() != bot.username.lower():
                return  # a command for another bot in the same group
            if not argument or name == "start":
                payload = command_payload(name, argument)
            # "/crisis Germany" is read as "crisis Germany", so the screen sees every word
            words = "" if payload else f"{name} {argument}".strip()
        inbound = self._inbound(user, private, text=words, payload=payload)
        if payload is None and message.text is None and not message.caption:
            await self._kind_reply(message, user, inbound)
            return
        response = await self.engine.handle(inbound)
        note = "tg_edited" if update.edited_message else None
        if message.caption and not message.text:
            note = "tg_caption"
        if note and not response.crisis:
            response.replies.insert(0, Reply(self.t(response.lang, note)))
        await self.deliver(message.chat, user.id, _topic(message), response)

    async def on_callback(self, update: Update, context: TgContext) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None or query.message is None:
            return
        chat = query.message.chat
        private = chat.type == ChatType.PRIVATE
        payload = self.signer.verify(chat.id, query.data)
        if self.staff is not None and chat.id == self.staff.chat_id:
            await self.staff.on_press(query, user, payload or "")
            return
        if payload is None:
            await self._refuse_button(query.answer, chat, user, private)
            return
        await self._answer(query.answer)
        response = await self.engine.handle(self._inbound(user, private, payload=payload))
        topic = _topic(query.message) if isinstance(query.message, Message) else None
        await self.deliver(chat, user.id, topic, response)

    async def on_staff_message(self, update: Update, context: TgContext) -> None:
        message, user = update.message, update.effective_user
        if self.staff is not None and message is not None and user is not None:
            await self.staff.on_message(message, user)

    async def on_error(self, update: object, context: TgContext) -> None:
        """Never the update itself in the log: it holds ids and words."""
        error = context.error
        log.error("telegram update failed (%s)", type(error).__name__, exc_info=error)

    def _inbound(
        self, user: User, private: bool, text: str = "", payload: str | None = None
    ) -> Inbound:
        """`chat_id` is always the person's own chat, so a relay never lands in a group."""
        return Inbound(
            platform=PLATFORM,
            user_id=str(user.id),
            chat_id=str(user.id),
            text=text,
            payload=payload,
            locale=user.language_code,
            private=private,
            display_name=user.full_name,
        )

    async def _kind_reply(self, message: Message, user: User, inbound: Inbound) -> None:
        """A sticker, voice note, photo or location: never silence."""
        lang = await self.language(inbound)
        kind = media_kind(message)
        first = Button(self.t(lang, "btn_set_country"), "country:ask")
        buttons = [self._intent_button(lang, i) for i in _FALLBACK]
        if kind == "tg_location":
            buttons = [first, *buttons[1:]]
        reply = Reply(self.t(lang, kind), tuple(buttons))
        await self.deliver(message.chat, user.id, _topic(message), Response([reply], lang))

    async def _refuse_button(
        self, answer: Callable[..., Awaitable[bool]], chat: Chat, user: User, private: bool
    ) -> None:
        """A forged, copied or mangled button: say so kindly, and offer the way on."""
        lang = await self.language(self._inbound(user, private))
        text = self.t(lang, "tg_button_refused")
        if not private:
            await self._answer(lambda: answer(text))
            return
        await self._answer(answer)
        buttons = tuple(self._intent_button(lang, i) for i in _FALLBACK)
        await self.deliver(chat, user.id, None, Response([Reply(text, buttons)], lang))

    async def _answer(self, call: Callable[[], Awaitable[bool]]) -> None:
        """Acknowledge a button press; a press too old to answer still gets its reply."""
        with contextlib.suppress(DeliveryError):
            await self.sender.attempt(call, retry=False)

    # -- replies ----------------------------------------------------------------

    async def deliver(
        self, chat: Chat, user_id: int, topic: int | None, response: Response
    ) -> None:
        """Private chat: everything there. Group: private replies to the person's own
        chat first, the rest to the group; if the person cannot be reached privately,
        the group gets a gentle note instead, never the crisis text."""
        crisis = response.crisis
        try:
            if chat.type == ChatType.PRIVATE:
                await self.sender.send(chat.id, response.replies, crisis=crisis)
                return
            private = [r for r in response.replies if r.private]
            public = [r for r in response.replies if not r.private]
            if private:
                try:
                    await self.sender.send(user_id, private, crisis=crisis)
                except DeliveryError:
                    public = [] if crisis else public
                    await self._ask_to_open_private(chat.id, topic, response.lang, crisis)
            await self.sender.send(chat.id, public, crisis=crisis, thread_id=topic)
        except DeliveryError as exc:
            key = self.engine.pseudonyms.key(PLATFORM, str(user_id))
            log.warning("reply not delivered (%s): user=%s", exc, key[:8])
            if chat.type == ChatType.PRIVATE and not exc.permanent:
                # nothing lost: the outbox keeps it and tries again, even after a restart
                rest = response.replies[exc.delivered :]
                await self.engine.outbox.defer(PLATFORM, str(chat.id), rest)

    async def _ask_to_open_private(
        self, chat_id: int, topic: int | None, lang: str, crisis: bool
    ) -> None:
        link = f"https://t.me/{self.app.bot.username}?start={'crisis' if crisis else 'help'}"
        button = InlineKeyboardButton(self.t(lang, "tg_open_private_button"), url=link)
        await self.sender.attempt(
            lambda: self.app.bot.send_message(
                chat_id,
                self.t(lang, "tg_open_private"),
                reply_markup=InlineKeyboardMarkup([[button]]),
                message_thread_id=topic,
                rate_limit_args=crisis or None,
            ),
            crisis=crisis,
        )

    # -- helpers ----------------------------------------------------------------

    def t(self, lang: str, key: str) -> str:
        return self.engine.services.texts.get(lang, key)

    def _intent_button(self, lang: str, intent: str) -> Button:
        return Button(self.t(lang, f"intent_{intent}"), f"intent:{intent}")

    async def language(self, inbound: Inbound) -> str:
        """The person's chosen language if the store answers quickly, else their app's."""
        key = self.engine.pseudonyms.key(PLATFORM, inbound.user_id)
        try:
            state = await asyncio.wait_for(self.engine.store.get_user(key), LANGUAGE_LOOKUP_TIMEOUT)
        except Exception as exc:
            log.info("language lookup failed (%s): user=%s", type(exc).__name__, key[:8])
            state = None
        return self.engine.services.language_of(state, inbound, "")


def _topic(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


def run(
    settings: TelegramSettings,
    open_engine: Callable[[], Awaitable[Engine]],
    webhook_url: str | None = None,
    listen: str = "127.0.0.1",
    port: int = 8443,
    path: str = "telegram",
) -> None:
    """Long polling, or a webhook at http://listen:port/path when `webhook_url` is given
    (the public https address a reverse proxy forwards to it)."""
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # durations as timedelta; both are handled
    adapter = TelegramAdapter(settings, open_engine)
    adapter.app.post_shutdown = adapter.close
    if webhook_url is None:
        adapter.app.run_polling()
        return
    adapter.app.run_webhook(
        listen=listen,
        port=port,
        url_path=path.strip("/"),
        webhook_url=webhook_url,
        secret_token=settings.webhook_secret,
    )
