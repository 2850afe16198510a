"""Sending to Telegram: buttons, signed callback data, flood limits, retries.

Why each piece exists:
- Callback data is the engine payload plus a short HMAC keyed by the
  pseudonym secret and bound to the chat, so a forged or copied button is
  refused, and buttons keep working after a restart (nothing kept in memory).
- Crisis replies skip the rate limiter's queues (`CrisisFirstLimiter`) and the
  per-chat ordering lock, so they never wait behind other sends.
- Other replies are retried with backoff on flood limits and network errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot

from bot.messages import Button, Reply
from bot.outbound import DeliveryError
from bot.pseudonym import Pseudonymizer

log = logging.getLogger(__name__)

PLATFORM = "telegram"
CALLBACK_LIMIT = 64
"""Telegram's maximum callback_data length in bytes."""
_SIG_LEN = 10
_SEP = "|"

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class ButtonSigner:
    """Signs engine payloads into callback data, and checks them on the way back."""

    def __init__(self, pseudonyms: Pseudonymizer) -> None:
        self._pseudonyms = pseudonyms

    def _sig(self, chat_id: int | str, payload: str) -> str:
        return self._pseudonyms.key("telegram-button", f"{chat_id}:{payload}")[:_SIG_LEN]

    def sign(self, chat_id: int | str, payload: str) -> str | None:
        """Callback data for a button in `chat_id`; None if it cannot fit Telegram's limit."""
        data = f"{payload}{_SEP}{self._sig(chat_id, payload)}"
        return data if len(data.encode()) <= CALLBACK_LIMIT else None

    def verify(self, chat_id: int | str, data: str | None) -> str | None:
        """The payload if `data` was signed by us for this chat, else None."""
        payload, sep, sig = (data or "").rpartition(_SEP)
        return payload if sep and sig == self._sig(chat_id, payload) else None


def keyboard(
    signer: ButtonSigner, chat_id: int | str, buttons: Sequence[Button]
) -> InlineKeyboardMarkup | None:
    """One button per row: labels are whole phrases in five languages."""
    rows = []
    for button in buttons:
        data = signer.sign(chat_id, button.payload)
        if data is None:
            log.error("button payload too long for Telegram: %s", button.payload.split(":")[0])
            continue
        rows.append([InlineKeyboardButton(button.label, callback_data=data)])
    return InlineKeyboardMarkup(rows) if rows else None


class CrisisFirstLimiter(BaseRateLimiter[bool]):
    """PTB's AIORateLimiter for every request, except those sent with
    `rate_limit_args=True` (crisis replies): these go out at once, not queued
    behind the per-second, per-group or flood-wait throttles of other sends.
    Telegram may still refuse one with 429; the sender then waits and retries.
    """

    def __init__(self, limiter: AIORateLimiter) -> None:
        self._limiter = limiter

    async def initialize(self) -> None:
        await self._limiter.initialize()

    async def shutdown(self) -> None:
        await self._limiter.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: bool | None,
    ) -> JSON:
        if rate_limit_args:
            return await callback(*args, **kwargs)
        return await self._limiter.process_request(callback, args, kwargs, endpoint, data, None)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about the int form; either is fine here
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def delivery_error(exc: TelegramError) -> DeliveryError:
    """Forbidden (blocked, kicked, deleted) and BadRequest cannot succeed on retry."""
    if isinstance(exc, RetryAfter):
        return DeliveryError("flood limit", retry_after=retry_after_seconds(exc))
    permanent = isinstance(exc, Forbidden | BadRequest)
    return DeliveryError(type(exc).__name__, permanent=permanent)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    backoff: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    """Waits between attempts of a normal reply (about a minute in all)."""
    crisis_backoff: tuple[float, ...] = (0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0)
    """Crisis replies try harder and sooner."""


class Sender:
    """Sends replies to one chat at a time, in order, retrying what can succeed later."""

    def __init__(
        self, bot: ExtBot[Any], signer: ButtonSigner, policy: RetryPolicy | None = None
    ) -> None:
        self.bot = bot
        self.signer = signer
        self.policy = policy or RetryPolicy()
        self._chat_locks: weakref.WeakValueDictionary[int | str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def send(
        self,
        chat_id: int | str,
        replies: Sequence[Reply],
        *,
        crisis: bool = False,
        thread_id: int | None = None,
        reply_to: int | None = None,
        retry: bool = True,
    ) -> list[Message]:
        """Send in order; raise DeliveryError on the first reply that cannot be delivered.

        Crisis replies skip the chat's lock; others keep their order per chat.
        With `retry=False` the first failure is raised (the outbox retries itself).
        """
        if crisis:
            return await self._send_all(chat_id, replies, True, thread_id, reply_to, retry)
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        async with lock:
            return await self._send_all(chat_id, replies, False, thread_id, reply_to, retry)

    async def _send_all(
        self,
        chat_id: int | str,
        replies: Sequence[Reply],
        crisis: bool,
        thread_id: int | None,
        reply_to: int | None,
        retry: bool,
    ) -> list[Message]:
        sent = []
        for reply in replies:
            markup = keyboard(self.signer, chat_id, reply.buttons)

            async def once(reply: Reply = reply, markup: Any = markup) -> Message:
                return await self.bot.send_message(
                    chat_id,
                    reply.text,
                    reply_markup=markup,
                    message_thread_id=thread_id,
                    reply_parameters=ReplyParameters(reply_to) if reply_to else None,
                    rate_limit_args=crisis or None,
                )

            try:
                sent.append(await self.attempt(once, crisis=crisis, retry=retry))
            except DeliveryError as exc:
                exc.delivered = len(sent)
                raise
        return sent

    async def attempt(
        self,
        call: Callable[[], Awaitable[Any]],
        *,
        crisis: bool = False,
        retry: bool = True,
    ) -> Any:
        """Run one Bot API call, retrying flood limits and network errors with backoff."""
        waits = (self.policy.crisis_backoff if crisis else self.policy.backoff) if retry else ()
        for attempt in range(len(waits) + 1):
            try:
                return await call()
            except (RetryAfter, NetworkError) as exc:
                error = delivery_error(exc)
                if error.permanent or attempt == len(waits):
                    log.warning("telegram send failed (%s), giving up", error)
                    raise error from exc
                wait = max(waits[attempt], error.retry_after or 0.0)
                log.info("telegram send failed (%s); retrying in %.1f s", error, wait)
                await asyncio.sleep(wait)
            except TelegramError as exc:
                error = delivery_error(exc)
                log.warning("telegram send refused (%s)", error)
                raise error from exc
        raise AssertionError("unreachable")


class TelegramMessenger:
    """Reaches a person for the outbox (a case manager's words, a reminder).

    `chat_id` is the person's own private chat (see `Inbound.chat_id` in the
    adapter), so a relay never lands in a group. The outbox retries, so one
    attempt here.
    """

    platform = PLATFORM

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        await self._sender.send(int(chat_id), replies, retry=False)
