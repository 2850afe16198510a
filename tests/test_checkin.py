"""Mood check-ins and their reminders, as a person meets them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest

from bot.engine import Engine, Services
from bot.messages import Reply
from bot.outbound import DeliveryError
from bot.reminders import ReminderWorker, next_at, parse_time, zone_named
from bot.store.models import Reminder
from bot.store.sqlite import SQLiteStore
from handlers.checkin import chart, trend
from tests.conftest import TestBot

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def key_of(engine: Engine, user: str = "ana") -> str:
    return engine.pseudonyms.key("console", user)


async def test_check_in_with_a_note_then_see_two_weeks(
    testbot: TestBot, engine: Engine, store: SQLiteStore
) -> None:
    key = key_of(engine)
    for days_ago, score in ((9, 2), (6, 2), (4, 3), (2, 4)):
        await store.add_checkin(key, dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago), score)
    await testbot.send(payload="intent:checkin")
    assert "14 days" in testbot.text
    assert "lifting" in testbot.text, "scores went 2,2,3,4: a gentle 'up' observation"
    await testbot.press("4 · good")
    assert "Good to hear" in testbot.text
    await testbot.send("proud")
    assert 'Noted: "proud"' in testbot.text
    checkins = await store.checkins_since(key, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    assert [(c.score, c.note) for c in checkins] == [(4, "proud")]
    await testbot.press("My last 2 weeks")
    bars = testbot.text.splitlines()[1]
    assert len(bars) == 14 and bars.endswith("▆") and bars.count("·") == 9


async def test_a_low_score_offers_support_in_spanish(engine: Engine) -> None:
    bot = TestBot(engine, locale="es")
    await bot.send(payload="intent:checkin")
    assert "Todavía no hay registros" in bot.text
    await bot.press("1 · muy mal")
    assert "día difícil" in bot.text
    assert {"intent:talk_to_human", "intent:crisis_lines"} <= set(bot.payloads)


async def test_a_crisis_word_in_the_note_gets_the_crisis_reply(testbot: TestBot) -> None:
    await testbot.send(payload="mood:2")
    response = await testbot.send("suicidal")
    assert response.crisis
    assert "Noted" not in testbot.text


async def test_a_longer_message_after_the_score_is_answered_not_stored(
    testbot: TestBot, engine: Engine, store: SQLiteStore
) -> None:
    await testbot.send(payload="mood:3")
    await testbot.send("i cant sleep on the tour bus at all these days")
    assert testbot.last.intent == "sleep"
    checkins = await store.checkins_since(key_of(engine), NOW - dt.timedelta(days=400))
    assert checkins[0].note is None


async def test_daily_reminder_in_german_then_stop_by_text(
    engine: Engine, store: SQLiteStore
) -> None:
    bot = TestBot(engine, locale="de", country="DE")
    await bot.send(payload="intent:checkin")
    await bot.press("Erinnere mich")
    await bot.press("Jeden Tag")
    await bot.send("20:30")
    assert "jeden Tag um 20:30 (Europe/Berlin)" in bot.text
    reminder = await store.get_reminder(key_of(engine))
    assert reminder is not None and reminder.chat_id == "chat-ana"
    assert reminder.next_at.astimezone(dt.UTC).minute == 30
    await bot.send("erinnerungen stoppen")
    assert "Erinnerungen sind aus" in bot.text
    assert await store.get_reminder(key_of(engine)) is None


async def test_weekly_reminder_asks_where_when_the_country_has_many_zones(
    engine: Engine, store: SQLiteStore
) -> None:
    bot = TestBot(engine, country="US")
    await bot.send(payload="remind:weekly")
    await bot.press("18:00")
    assert "Which city" in bot.text
    await bot.send("blorp")
    assert "couldn't place" in bot.text
    await bot.send("chicago")
    assert "at 18:00 (America/Chicago)" in bot.text
    reminder = await store.get_reminder(key_of(engine))
    assert reminder is not None and reminder.every == "weekly" and reminder.weekday is not None
    await bot.press("Stop reminders")
    assert "Reminders are off" in bot.text


def test_chart_and_trend() -> None:
    from bot.store.models import Checkin

    today = NOW.date()
    days = [Checkin(i, NOW - dt.timedelta(days=d), s) for i, (d, s) in enumerate([(13, 1), (0, 5)])]
    assert chart(days, today, dt.UTC) == "▁" + "·" * 12 + "█"
    assert trend([4, 4, 2, 1]) == "down"
    assert trend([3, 3, 3]) == "steady"
    assert trend([5]) == "few"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20:30", "20:30"), ("8pm", "20:00"), ("8.15", "08:15"), ("7h", "07:00"), ("25:00", None)],
)
def test_times_people_type(text: str, expected: str | None) -> None:
    assert parse_time(text) == expected


def test_zones_from_what_people_type() -> None:
    assert zone_named("Sao Paulo", None) == "America/Sao_Paulo"
    assert zone_named("europe/lisbon", None) == "Europe/Lisbon"
    assert zone_named("somewhere", "DE") == "Europe/Berlin"
    assert zone_named("somewhere", "US") is None


def test_daily_reminder_keeps_local_time_across_dst() -> None:
    before = dt.datetime(
        2026, 10, 24, 12, 0, tzinfo=dt.UTC
    )  # Berlin leaves summer time on the 25th
    first = next_at("20:30", "Europe/Berlin", "daily", None, before)
    second = next_at("20:30", "Europe/Berlin", "daily", None, first)
    assert (first.hour, second.hour) == (18, 19)
    berlin = ZoneInfo("Europe/Berlin")
    assert first.astimezone(berlin).time() == second.astimezone(berlin).time() == dt.time(20, 30)


# -- the worker ------------------------------------------------------------------


class FakeMessenger:
    """Records what it is asked to send; can be told to fail like a platform."""

    platform = "telegram"

    def __init__(self, error: DeliveryError | None = None) -> None:
        self.sent: list[tuple[str, Sequence[Reply]]] = []
        self.error = error

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((chat_id, replies))


def reminder(user: str, due: dt.datetime, lang: str = "fr") -> Reminder:
    return Reminder(
        user, "telegram", f"chat-{user}", lang, "daily", "13:00", "Europe/Paris", None, due
    )


async def test_worker_sends_due_reminders_and_reschedules(
    store: SQLiteStore, services: Services
) -> None:
    await store.save_reminder(reminder("due", NOW - dt.timedelta(minutes=1)))
    await store.save_reminder(reminder("later", NOW + dt.timedelta(hours=1)))
    messenger = FakeMessenger()
    worker = ReminderWorker(store, services.texts, {"telegram": messenger}, checkin_days=365)
    assert await worker.run_once(NOW) == 1
    chat_id, replies = messenger.sent[0]
    assert chat_id == "chat-due" and "point humeur" in replies[0].text
    assert "remind:stop" in [b.payload for b in replies[0].buttons]
    moved = await store.get_reminder("due")
    assert moved is not None and moved.next_at == dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    assert await worker.run_once(NOW) == 0, "not sent twice"


async def test_worker_stops_a_reminder_the_platform_refuses_for_good(
    store: SQLiteStore, services: Services
) -> None:
    await store.save_reminder(reminder("blocked", NOW))
    await store.save_reminder(reminder("busy", NOW))
    refusing = FakeMessenger(DeliveryError("bot was blocked", permanent=True))
    worker = ReminderWorker(store, services.texts, {"telegram": refusing}, checkin_days=365)
    assert await worker.run_once(NOW) == 0
    assert await store.get_reminder("blocked") is None
    refusing.error = DeliveryError("flood", retry_after=1200)
    await store.save_reminder(reminder("busy", NOW))
    await worker.run_once(NOW)
    retry = await store.get_reminder("busy")
    assert retry is not None and retry.next_at == NOW + dt.timedelta(minutes=20)


async def test_worker_applies_checkin_retention(store: SQLiteStore, services: Services) -> None:
    await store.add_checkin("old", NOW - dt.timedelta(days=40), 3)
    await store.add_checkin("new", NOW - dt.timedelta(days=2), 3)
    worker = ReminderWorker(store, services.texts, {}, checkin_days=30)
    await worker.run_once(NOW)
    assert await store.checkins_since("old", NOW - dt.timedelta(days=400)) == []
    assert len(await store.checkins_since("new", NOW - dt.timedelta(days=400))) == 1
