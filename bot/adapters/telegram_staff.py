"""The staff side on Telegram: cases in a staff group, claim/close buttons, relay.

A forum group gets one topic per case; any other group gets one message per
case, and later notices reply to it. Staff are the group's members (a message
from inside it, or a button press by someone `getChatMember` confirms) or
people on the hub's staff list. Notice texts are English for staff.
"""

from __future__ import annotations

import contextlib
import functools
import logging

from telegram import CallbackQuery, Message, User
from telegram.constants import ChatMemberStatus
from telegram.ext import ExtBot

from bot.adapters.telegram_send import PLATFORM, Sender
from bot.handoff.channel import Notice, NoticeKind, parse_staff_action, staff_action_payload
from bot.handoff.desk import Desk, Refused
from bot.handoff.models import Priority, StaffActor
from bot.messages import Button, Reply
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)

LABELS = {"claim": "Claim", "close": "Close"}
MEMBERS = frozenset(
    {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


class TelegramStaffGroup:
    """`StaffChannel` for one Telegram group, and what staff do in it."""

    name = PLATFORM

    def __init__(self, bot: ExtBot[bool], chat_id: int, sender: Sender, desk: Desk) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.sender = sender
        self.desk = desk
        self._forum: bool | None = None
        self._topics: dict[str, str] = {}
        """Topics created for a case whose first post then failed: reused on retry."""

    async def is_forum(self) -> bool:
        if self._forum is None:
            chat = await self.sender.attempt(functools.partial(self.bot.get_chat, self.chat_id))
            self._forum = bool(chat.is_forum)
        return self._forum

    # -- StaffChannel -------------------------------------------------------------

    async def post(self, notice: Notice, thread: str | None) -> str | None:
        case = notice.case
        buttons = tuple(Button(LABELS[a], staff_action_payload(a, case.id)) for a in notice.actions)
        reply = Reply(notice.text, buttons)
        forum = await self.is_forum()
        if forum:
            thread = thread or self._topics.get(case.id) or await self._new_topic(notice)
            if notice.kind is NoticeKind.REOPENED:
                reopen = functools.partial(self.bot.reopen_forum_topic, self.chat_id, int(thread))
                with contextlib.suppress(DeliveryError):  # already open is fine
                    await self.sender.attempt(reopen, retry=False)
            await self.sender.send(self.chat_id, [reply], thread_id=int(thread), retry=False)
            self._topics.pop(case.id, None)
            if notice.kind is NoticeKind.CLOSED:
                close = functools.partial(self.bot.close_forum_topic, self.chat_id, int(thread))
                await self.sender.attempt(close, retry=False)
            return thread
        reply_to = int(thread) if thread else None
        sent = await self.sender.send(self.chat_id, [reply], reply_to=reply_to, retry=False)
        return thread or str(sent[0].message_id)

    async def _new_topic(self, notice: Notice) -> str:
        case = notice.case
        urgent = "CRISIS · " if case.priority is Priority.CRISIS else ""
        name = f"{urgent}Case {case.id}"
        create = functools.partial(self.bot.create_forum_topic, self.chat_id, name)
        topic = await self.sender.attempt(create, retry=False)
        thread = self._topics[case.id] = str(topic.message_thread_id)
        return thread

    # -- what staff do ------------------------------------------------------------------

    async def on_press(self, query: CallbackQuery, user: User, payload: str) -> None:
        """Claim or close from a case's buttons; the answer says what happened."""
        action = parse_staff_action(payload)
        if action is None:
            await self._answer(query, "That button is not for this group.")
            return
        verb, case_id = action
        actor = StaffActor(f"{PLATFORM}:{user.id}", user.full_name, await self._member(user.id))
        try:
            if verb == "claim":
                case = await self.desk.claim(case_id, actor)
                result = f"You claimed case {case.id}."
            else:
                case = await self.desk.close(case_id, actor)
                result = f"Case {case.id} is closed."
        except Refused as exc:
            await self._answer(query, str(exc))
            return
        await self._answer(query, result)
        if isinstance(query.message, Message):
            clear = functools.partial(query.message.edit_reply_markup, reply_markup=None)
            # the case's next notice carries the buttons that still apply
            with contextlib.suppress(DeliveryError):
                await self.sender.attempt(clear, retry=False)

    async def on_message(self, message: Message, user: User) -> None:
        """Staff writing in a case's topic (or replying to its message): relayed to the person."""
        if message.sender_chat is not None or not message.text or user.is_bot:
            return  # an anonymous admin or a channel is not a staff member
        case_id = await self._case_of(message)
        if case_id is None:
            return  # staff talking among themselves
        actor = StaffActor(f"{PLATFORM}:{user.id}", user.full_name, verified=True)
        try:
            await self.desk.staff_reply(case_id, actor, message.text)
        except Refused as exc:
            reply = Reply(str(exc))
            topic = message.message_thread_id if message.is_topic_message else None
            with contextlib.suppress(DeliveryError):
                await self.sender.send(
                    self.chat_id, [reply], thread_id=topic, reply_to=message.message_id
                )

    async def _case_of(self, message: Message) -> str | None:
        """The case of a forum topic, or of the bot's message this one replies to
        (its buttons name the case; the first message of a case is its thread)."""
        if message.is_topic_message and message.message_thread_id is not None:
            return await self.desk.case_for_thread(self.name, str(message.message_thread_id))
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != self.bot.id:
            return None
        markup = replied.reply_markup
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                data = button.callback_data if isinstance(button.callback_data, str) else None
                action = parse_staff_action(self.sender.signer.verify(self.chat_id, data) or "")
                if action is not None:
                    return action[1]
        return await self.desk.case_for_thread(self.name, str(replied.message_id))

    async def _member(self, user_id: int) -> bool:
        """Pressing a button does not prove membership (public groups can be read by anyone)."""
        check = functools.partial(self.bot.get_chat_member, self.chat_id, user_id)
        try:
            member = await self.sender.attempt(check, retry=False)
        except DeliveryError:
            return False
        return member.status in MEMBERS

    async def _answer(self, query: CallbackQuery, text: str) -> None:
        with contextlib.suppress(DeliveryError):
            await self.sender.attempt(functools.partial(query.answer, text, show_alert=True))
