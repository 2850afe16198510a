"""Delivers what the desk queued: notices to staff channels, messages to people.

At-least-once with care: each item is leased, sent, then marked sent; a failed
send is retried with backoff (or when the platform says), in order per case
and channel, so a thread never shows a reply before its case. A process that
dies mid-send leaves a lease that runs out, and the item is sent after restart
with the same `Notice.key`, which channels that can deduplicate use (email
Message-ID). Each process delivers only to the channels it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bot.handoff.channel import Notice, NoticeKind, StaffChannel
from bot.handoff.desk import Clock, utc_now
from bot.handoff.outbox_models import PERSON, OutboxItem, person_body, person_replies
from bot.messages import Reply
from bot.outbound import DeliveryError, Messenger

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
LEASE_SECONDS = 60.0


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds to wait before the next try: what the platform asked, else 2, 4, 8 … 600."""
    if retry_after is not None:
        return max(retry_after, 0.5)
    return float(min(600, 2 ** (attempts + 1)))


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        clock: Clock = utc_now,
        poll: float = 2.0,
        sweep: Callable[[], Awaitable[int]] | None = None,
        sweep_every: float = 30.0,
        staff_channels: tuple[str, ...] = (),
        lease: float = LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.poll = poll
        self.sweep = sweep
        self.sweep_every = sweep_every
        self.staff_channels = staff_channels
        self.lease = lease
        """Seconds an item stays reserved for this process while it sends it."""
        """Every configured staff channel, told when a person cannot be reached."""
        self.channels: dict[str, StaffChannel] = {}
        self.messengers: dict[str, Messenger] = {}
        """By platform; shared with the reminder worker, which reaches people the same way."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add_channel(self, channel: StaffChannel, oncall: bool = False) -> None:
        """A staff channel this process can post to (`oncall` ones get on-call notices)."""
        self.channels[channel.name] = channel
        self.wake()

    def add_messenger(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger
        self.wake()

    async def defer(self, platform: str, chat_id: str, replies: Sequence[Reply]) -> None:
        """Keep replies an adapter could not deliver now; they go out with backoff."""
        if not replies:
            return
        await self.store.enqueue(
            [
                OutboxItem(
                    channel=PERSON + platform,
                    kind="reply",
                    dedupe=f"reply:{secrets.token_hex(8)}",
                    body=person_body(chat_id, replies),
                )
            ]
        )
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        last_sweep = 0.0
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            try:
                if self.sweep is not None and loop.time() - last_sweep >= self.sweep_every:
                    last_sweep = loop.time()
                    await self.sweep()
                await self.run_once()
            except Exception as exc:  # the store may be down for a while; keep trying
                log.error("outbox pass failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)

    async def run_once(self) -> int:
        """Deliver every due item this process can; returns how many were sent."""
        names = [*self.channels, *(PERSON + platform for platform in self.messengers)]
        sent = 0
        while True:
            items = await self.store.due_outbox(names, self.clock(), self.lease)
            if not items:
                return sent
            results = await asyncio.gather(*(self._deliver(item) for item in items))
            sent += sum(results)
            if not any(results):
                return sent

    async def _deliver(self, item: OutboxItem) -> bool:
        try:
            if item.channel.startswith(PERSON):
                await self._to_person(item)
            else:
                await self._to_staff(item)
        except DeliveryError as exc:
            await self._failed(item, exc)
            return False
        except Exception as exc:  # a bug or an odd platform error: retry, never lose it
            log.exception("outbox delivery crashed: channel=%s", item.channel)
            await self._failed(item, DeliveryError(type(exc).__name__))
            return False
        await self.store.outbox_done(item.id, self.clock())
        return True

    async def _to_staff(self, item: OutboxItem) -> None:
        channel = self.channels[item.channel]
        case = await self.store.get_case(item.case_id or "")
        if case is None:
            raise DeliveryError("the case no longer exists", permanent=True)
        thread = await self.store.thread_of(case.id, channel.name)
        notice = Notice(NoticeKind(item.kind), case, str(item.body["text"]), item.dedupe)
        new_thread = await channel.post(notice, thread)
        if new_thread is not None and new_thread != thread:
            await self.store.set_thread(case.id, channel.name, new_thread)

    async def _to_person(self, item: OutboxItem) -> None:
        messenger = self.messengers[item.channel.removeprefix(PERSON)]
        await messenger.send(str(item.body["chat_id"]), person_replies(item.body))

    async def _failed(self, item: OutboxItem, exc: DeliveryError) -> None:
        now = self.clock()
        reason = str(exc)[:120]
        if exc.permanent or item.attempts + 1 >= MAX_ATTEMPTS:
            log.error("outbox gave up: channel=%s kind=%s (%s)", item.channel, item.kind, reason)
            await self.store.outbox_failed(item.id, now, reason)
            if item.channel.startswith(PERSON) and item.case_id:
                await self._tell_staff_unreachable(item, reason)
            return
        delay = backoff(item.attempts, exc.retry_after)
        log.warning("outbox retry in %.0fs: channel=%s (%s)", delay, item.channel, reason)
        await self.store.outbox_retry(item.id, now + dt.timedelta(seconds=delay), reason)

    async def _tell_staff_unreachable(self, item: OutboxItem, reason: str) -> None:
        case = await self.store.get_case(item.case_id or "")
        if case is None:
            return
        text = f"Could not reach the person on {case.platform} ({reason}): a message was lost."
        await self.store.enqueue(
            [
                OutboxItem(
                    channel=name,
                    kind=NoticeKind.PERSON.value,
                    dedupe=f"{item.dedupe}:undelivered:{name}",
                    body={"text": text},
                    case_id=case.id,
                )
                for name in self.staff_channels
            ]
        )
