"""`python -m bot bench`: speed figures, printed, never asserted in unit tests.

Messages come from the project's own labelled sets, so the mix of languages,
lengths, typos and crises is the real one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.classify import classify_text
from bot.config import LANGUAGES, PROJECT_ROOT, Paths
from bot.engine import Engine, Services
from bot.evaluate import read_items
from bot.handoff.channel import Notice
from bot.handoff.config import HandoffConfig
from bot.handoff.models import Contact, Priority
from bot.messages import Inbound
from bot.pseudonym import Pseudonymizer
from bot.store.sqlite import SQLiteStore
from bot.textnorm import clean_input, normalize


def sample_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "eval").glob("*.jsonl")):
        texts += [item.text for item in read_items(path)]
    return texts


def _percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    mean = statistics.fmean(ordered) * 1000
    return f"mean {mean:.3f} ms  p50 {p50:.3f} ms  p99 {p99:.3f} ms"


def _time_each(func: Callable[[str], object], texts: list[str], count: int) -> list[float]:
    """Each message timed as if new: the cache of whole normalised texts is emptied
    first (the sample repeats; real messages seldom do). Caches of words stay warm,
    as in a running bot."""
    latencies = []
    clock = time.perf_counter
    for i in range(count):
        text = texts[i % len(texts)]
        normalize.cache_clear()
        start = clock()
        func(text)
        latencies.append(clock() - start)
    return latencies


def _costliest_rules(
    services: Services, screen: Callable[[str], object], texts: list[str], top: int = 5
) -> str:
    """Where the screen's regex time goes, by rule: a new rule that costs more than
    it should shows up here before it shows up in the mean."""
    cost: dict[str, float] = {}
    with services.screen.timed(cost):
        _time_each(screen, texts, len(texts))
    per_message = {
        f"{rule} concepts" if rule in LANGUAGES else rule: seconds / len(texts) * 1e6
        for rule, seconds in cost.items()
    }
    ranked = sorted(per_message.items(), key=lambda item: -item[1])[:top]
    return (
        f"{'screen regexes, per message':28} {sum(per_message.values()):.1f} µs;"
        f" costliest: {', '.join(f'{rule} {us:.1f}' for rule, us in ranked)}"
    )


def _line(name: str, latencies: list[float], wall: float) -> str:
    rate = len(latencies) / wall
    return f"{name:28} {len(latencies):>7} msgs  {rate:>9,.0f} msg/s  {_percentiles(latencies)}"


async def _engine_turns(
    services: Services, texts: list[str], count: int, users: int
) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await SQLiteStore.open(Path(tmp) / "bench.sqlite3")
        engine = Engine(services, store, Pseudonymizer(b"bench"))
        latencies: list[float] = []
        per_user = max(1, count // users)

        async def user(n: int) -> None:
            for i in range(per_user):
                inbound = Inbound(
                    "bench", f"user{n}", f"chat{n}", texts[(n * 7919 + i) % len(texts)]
                )
                start = time.perf_counter()
                await engine.handle(inbound)
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        wall = time.perf_counter() - start
        await engine.aclose()
    return latencies, wall


class _NullChannel:
    """A staff channel that shows nothing: measures the queue, not a platform."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def post(self, notice: Notice, thread: str | None) -> str | None:
        return thread or notice.case.id


async def _handoff(services: Services, cases: int) -> str:
    """Cases opened (each with its notices, in one transaction) and notices delivered."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await SQLiteStore.open(Path(tmp) / "bench.sqlite3")
        channels = ("staff_a", "staff_b")
        engine = Engine(services, store, Pseudonymizer(b"bench"), HandoffConfig(channels))
        for name in channels:
            engine.outbox.add_channel(_NullChannel(name))
        start = time.perf_counter()
        for n in range(cases):
            await engine.desk.open_case(
                user_key=f"user{n}",
                platform="bench",
                address=f"chat{n}",
                lang="en",
                country=None,
                priority=Priority.NORMAL,
                contact=Contact.CHAT,
            )
        opened = time.perf_counter() - start
        start = time.perf_counter()
        sent = await engine.outbox.run_once()
        delivered = time.perf_counter() - start
        await engine.aclose()
    return (
        f"{'handoff: open a case':28} {cases:>7} cases {cases / opened:>9,.0f} case/s"
        f"  {opened / cases * 1000:.2f} ms each (case + {len(channels)} notices)\n"
        f"{'handoff: outbox delivery':28} {sent:>7} notes {sent / delivered:>9,.0f} note/s"
    )


def run(paths: Paths, messages: int, users: int) -> str:
    load_start = time.perf_counter()
    services = Services.load(paths)
    load_time = time.perf_counter() - load_start
    texts = sample_texts()
    out = [
        f"machine: {os.cpu_count()} cores (figures below use one core: one process, one thread)",
        f"data: {len(services.matcher.intents)} intents, {services.matcher.example_count} examples,"
        f" {services.screen.rule_count} crisis rules; loaded in {load_time:.2f} s;"
        f" {len(texts)} distinct sample messages",
    ]

    def screen(text: str) -> object:
        return services.screen.screen(clean_input(text))

    for name, func in (
        ("crisis screen", screen),
        ("classify (screen + intent)", lambda t: classify_text(services, t)),
    ):
        _time_each(func, texts, len(texts))  # warm caches once, as a running bot would be
        start = time.perf_counter()
        latencies = _time_each(func, texts, messages)
        out.append(_line(name, latencies, time.perf_counter() - start))
    out.append(_costliest_rules(services, screen, texts))
    logging.getLogger("bot.engine").setLevel(logging.ERROR)  # a crisis log line per turn
    latencies, wall = asyncio.run(_engine_turns(services, texts, messages, users))
    out.append(_line(f"engine turns, SQLite, {users} users", latencies, wall))
    out.append(asyncio.run(_handoff(services, max(100, messages // 20))))
    return "\n".join(out)
