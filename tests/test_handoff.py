"""A case from the person's first "talk to a person" to its close, through the engine.

Staff act through the desk as the terminal, Telegram and Discord do; the
outbox delivers to recording fakes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.engine import Engine, Services
from bot.handoff.config import HandoffConfig
from bot.handoff.desk import Refused, new_case_id
from bot.handoff.models import Contact, Priority, StaffActor, StaffMember, Status
from bot.pseudonym import Pseudonymizer
from bot.store import StoreError
from bot.store.sqlite import SQLiteStore
from tests.conftest import TestBot
from tests.handoff_fakes import RecordingChannel, RecordingMessenger

ALEX = StaffActor("console:alex", "Alex")
STRANGER = StaffActor("console:mallory", "Mallory")


@pytest.fixture
async def desk_engine(services: Services, store: SQLiteStore) -> AsyncIterator[Engine]:
    engine = Engine(
        services,
        store,
        Pseudonymizer(b"test-secret"),
        HandoffConfig(staff_channels=("staffroom",)),
    )
    await store.save_staff(StaffMember("console:alex", "Alex", anonymous=False))
    yield engine
    await engine.drain()


@pytest.fixture
def room(desk_engine: Engine) -> RecordingChannel:
    channel = RecordingChannel()
    desk_engine.outbox.add_channel(channel)
    return channel


@pytest.fixture
def phone(desk_engine: Engine) -> RecordingMessenger:
    messenger = RecordingMessenger()
    desk_engine.outbox.add_messenger(messenger)
    return messenger


async def open_case(bot: TestBot, note: str | None = "rough week, evenings are best") -> str:
    await bot.send("can I talk to a real person")
    assert "exactly what they will see" in bot.text
    await bot.press("Yes, connect me")
    await bot.press("Here in this chat")
    if note is None:
        await bot.press("Skip")
    else:
        await bot.send(note)
    assert "your request is with the team" in bot.text
    case = await bot.engine.desk.active_case(bot.engine.pseudonyms.key("console", bot.user))
    assert case is not None
    return case.id


async def test_consent_first_then_case_claimed_relayed_and_closed(
    desk_engine: Engine, room: RecordingChannel, phone: RecordingMessenger
) -> None:
    bot = TestBot(desk_engine, user="ana")
    case_id = await open_case(bot)
    assert "please don't wait" in bot.text  # crisis lines while waiting
    await desk_engine.outbox.run_once()
    opened, thread = room.posts[0]
    assert thread is None and opened.kind == "opened" and opened.actions == ("claim", "close")
    assert case_id in opened.text and "rough week" in opened.text and "Language: en" in opened.text

    await desk_engine.desk.claim(case_id, ALEX)
    await desk_engine.outbox.run_once()
    assert "Alex from the team is here now" in phone.texts[-1]
    assert room.texts[-1] == "Claimed by Alex."

    reply = await bot.send("thanks for picking this up, the tour starts monday")
    assert reply.replies == []  # the case manager answers, not the bot
    await desk_engine.outbox.run_once()
    assert room.posts[-1][0].text == "Person: thanks for picking this up, the tour starts monday"
    assert room.posts[-1][1] == f"thread-{case_id}"  # into the case's own thread

    await desk_engine.desk.staff_reply(case_id, ALEX, "Glad you wrote. Want to talk tonight?")
    await desk_engine.outbox.run_once()
    assert phone.texts[-1] == "Alex: Glad you wrote. Want to talk tonight?"
    _, transcript = await desk_engine.desk.show(case_id, ALEX)
    assert [m.author for m in transcript] == ["person", "staff"]

    await desk_engine.desk.close(case_id, ALEX)
    await desk_engine.outbox.run_once()
    assert "closed this conversation" in phone.texts[-1]
    assert room.texts[-1] == "Closed by Alex."
    await bot.send("what can you do")  # back to the bot, not the case manager
    assert bot.last.intent == "menu"
    closed = await desk_engine.store.get_case(case_id)
    assert closed is not None and closed.status is Status.CLOSED and closed.address is None


async def test_declining_shares_nothing(desk_engine: Engine, room: RecordingChannel) -> None:
    bot = TestBot(desk_engine, user="ben")
    await bot.send("I want to talk to a human")
    await bot.press("No, thanks")
    assert "Nothing has been shared" in bot.text
    assert "Crisis lines" in [b.label for b in bot.buttons]
    await desk_engine.outbox.run_once()
    assert room.posts == [] and await desk_engine.store.list_cases() == []


async def test_consent_in_spanish_with_email_contact(
    desk_engine: Engine, room: RecordingChannel
) -> None:
    bot = TestBot(desk_engine, user="lucia", locale="es")
    await bot.send("quiero hablar con una persona")
    assert "exactamente lo que verá" in bot.text
    await bot.press("Sí, ponme")
    await bot.press("Por correo")
    await bot.send("no es un correo")
    assert "no parece un correo" in bot.text
    await bot.send("lucia@example.org")
    await bot.press("Omitir")
    assert "tu solicitud está con el equipo" in bot.text
    await desk_engine.outbox.run_once()
    assert "email: lucia@example.org" in room.texts[0] and "Language: es" in room.texts[0]


async def test_typed_yes_consents_and_typed_no_cancels(desk_engine: Engine) -> None:
    bot = TestBot(desk_engine, user="noor")
    await bot.send("can I talk to a real person")
    await bot.send("yes")
    assert "How would you like the case manager to reach you?" in bot.text
    await bot.send("yes")  # not an answer to "how": ask for the buttons
    assert "choose one of the buttons" in bot.text
    await bot.send("no")
    assert "Nothing has been shared" in bot.text
    key = bot.engine.pseudonyms.key("console", bot.user)
    assert await bot.engine.desk.active_case(key) is None


async def test_typed_nein_declines_in_german(desk_engine: Engine) -> None:
    bot = TestBot(desk_engine, user="jonas", locale="de")
    await bot.send("ich möchte mit einem menschen reden")
    await bot.send("nein")
    assert "handoff:chat" not in bot.payloads
    assert bot.engine.services.texts.get("de", "handoff_declined") in bot.text


async def test_a_burst_of_requests_opens_one_case(desk_engine: Engine) -> None:
    bot = TestBot(desk_engine, user="cleo")
    await bot.send("talk to a person please")
    await bot.press("Yes, connect me")
    await bot.press("Here in this chat")
    results = await asyncio.gather(*(bot.send(f"note {i}") for i in range(8)))
    assert sum("your request is with the team" in r.replies[0].text for r in results) == 1
    assert len(await desk_engine.store.list_cases()) == 1


async def test_store_refuses_a_second_open_case_under_concurrency(desk_engine: Engine) -> None:
    desk = desk_engine.desk

    async def attempt() -> bool:
        _, created = await desk.open_case(
            user_key="same-person",
            platform="console",
            address="chat",
            lang="en",
            country=None,
            priority=Priority.NORMAL,
            contact=Contact.CHAT,
        )
        return created

    created = await asyncio.gather(*(attempt() for _ in range(10)))
    assert created.count(True) == 1


async def test_only_staff_act_as_staff(desk_engine: Engine, room: RecordingChannel) -> None:
    bot = TestBot(desk_engine, user="dan")
    case_id = await open_case(bot, note=None)
    desk = desk_engine.desk
    for action in (
        desk.claim(case_id, STRANGER),
        desk.close(case_id, STRANGER),
        desk.show(case_id, STRANGER),
        desk.list_cases(STRANGER),
        desk.staff_reply(case_id, STRANGER, "hi"),
        desk.block(case_id, STRANGER, 1, "test"),
    ):
        with pytest.raises(Refused, match="not on this hub's staff list"):
            await action
    with pytest.raises(Refused, match="No such case"):
        await desk.claim(case_id[:-1] + ("A" if case_id[-1] != "A" else "B"), ALEX)
    verified = StaffActor("telegram:77", "Sam", verified=True)  # checked by the adapter
    await desk.claim(case_id, verified)
    with pytest.raises(Refused, match="already claimed"):
        await desk.claim(case_id, ALEX)
    assert len(case_id) >= 16


async def test_a_person_can_end_only_their_own_case(desk_engine: Engine) -> None:
    ana, eve = TestBot(desk_engine, user="ana2"), TestBot(desk_engine, user="eve")
    case_id = await open_case(ana, note=None)
    await eve.send(payload="case:end")
    assert "don't have an open request" in eve.text
    case = await desk_engine.store.get_case(case_id)
    assert case is not None and case.status is Status.OPEN
    await ana.press("Cancel my request")
    assert "How did it go" in ana.text or "how did it go" in ana.text
    await ana.press("It helped")
    closed = await desk_engine.store.get_case(case_id)
    assert closed is not None and closed.status is Status.CLOSED and closed.feedback == "good"


async def test_crisis_during_a_relay_gets_lines_and_reaches_the_case_manager(
    desk_engine: Engine, room: RecordingChannel
) -> None:
    bot = TestBot(desk_engine, user="fay")
    case_id = await open_case(bot, note=None)
    await desk_engine.desk.claim(case_id, ALEX)
    await bot.send("i want to kill myself")
    assert bot.last.crisis and "Talk to a person" in [b.label for b in bot.buttons]
    await desk_engine.drain()
    await desk_engine.outbox.run_once()
    assert "Person: i want to kill myself" in room.texts
    case = await desk_engine.store.get_case(case_id)
    assert case is not None and case.priority is Priority.CRISIS


async def test_blocked_person_still_gets_crisis_replies(
    desk_engine: Engine, room: RecordingChannel
) -> None:
    bot = TestBot(desk_engine, user="gil")
    case_id = await open_case(bot, note=None)
    await desk_engine.desk.block(case_id, ALEX, hours=24, reason="abusive messages to staff")
    await desk_engine.desk.close(case_id, ALEX)
    await bot.send("talk to a person")
    await bot.press("Yes, connect me")
    await bot.press("Here in this chat")
    await bot.press("Skip")
    assert "can't pass a new request" in bot.text
    await bot.send("i want to end my life")
    assert bot.last.crisis


async def test_crisis_case_waiting_too_long_goes_to_on_call(
    services: Services, store: SQLiteStore
) -> None:
    now = [dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)]  # a Wednesday, office hours
    engine = Engine(
        services,
        store,
        Pseudonymizer(b"t"),
        HandoffConfig(staff_channels=("staffroom",), oncall_channels=("oncall",)),
    )
    engine.desk.clock = engine.outbox.clock = lambda: now[0]
    room, oncall = RecordingChannel(), RecordingChannel(name="oncall")
    engine.outbox.add_channel(room)
    engine.outbox.add_channel(oncall, oncall=True)
    bot = TestBot(engine, user="hal")
    await bot.send("i want to die")
    await bot.press("Talk to a person")
    await bot.press("Yes, connect me")
    await bot.press("Here in this chat")
    await bot.press("Skip")
    assert await engine.desk.sweep() == 0
    now[0] += dt.timedelta(minutes=16)
    assert await engine.desk.sweep() == 1
    await engine.outbox.run_once()
    assert oncall.texts and oncall.texts[0].startswith("ON-CALL") and "CRISIS" in oncall.texts[0]
    now[0] += dt.timedelta(hours=4)
    await engine.desk.sweep()
    await engine.outbox.run_once()
    assert room.posts[-1][0].kind == "reannounce"
    assert await engine.desk.sweep() == 0  # once per target period, not every sweep
    await engine.drain()


async def test_outside_office_hours_the_person_is_told_when(
    services: Services, store: SQLiteStore
) -> None:
    saturday = dt.datetime(2026, 11, 28, 22, 0, tzinfo=dt.UTC)
    engine = Engine(services, store, Pseudonymizer(b"t"))
    engine.desk.clock = lambda: saturday
    bot = TestBot(engine, user="ivy")
    await bot.send("talk to a person")
    await bot.press("Yes, connect me")
    await bot.press("Here in this chat")
    await bot.press("Skip")
    assert "offline right now" in bot.text and "2026-11-30 09:00 (Europe/London)" in bot.text
    assert "2026-11-30 13:00" in bot.text  # four working hours later


async def test_failed_staff_post_is_retried_and_not_duplicated(
    desk_engine: Engine, room: RecordingChannel
) -> None:
    room.fail_next = 1
    bot = TestBot(desk_engine, user="jo")
    await open_case(bot, note=None)
    assert await desk_engine.outbox.run_once() == 0
    counts = await desk_engine.store.outbox_counts()
    assert counts == {"pending": 1}
    desk_engine.outbox.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert await desk_engine.outbox.run_once() == 1
    assert await desk_engine.outbox.run_once() == 0
    assert len(room.posts) == 1


async def test_unreachable_person_is_reported_to_staff(
    desk_engine: Engine, room: RecordingChannel, phone: RecordingMessenger
) -> None:
    bot = TestBot(desk_engine, user="kit")
    case_id = await open_case(bot, note=None)
    phone.unreachable = True
    await desk_engine.desk.claim(case_id, ALEX)
    await desk_engine.outbox.run_once()
    await desk_engine.outbox.run_once()
    assert any("Could not reach the person" in text for text in room.texts)


async def test_closed_cases_are_deleted_after_the_retention_period(
    desk_engine: Engine, services: Services
) -> None:
    bot = TestBot(desk_engine, user="lea")
    case_id = await open_case(bot, note="private details")
    await desk_engine.desk.close(case_id, ALEX)
    await desk_engine.desk.sweep()
    assert await desk_engine.store.get_case(case_id) is not None  # kept within the period
    days = services.resources.privacy.case_days
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=days + 1)
    desk_engine.desk.clock = lambda: later
    await desk_engine.desk.sweep()
    assert await desk_engine.store.get_case(case_id) is None
    assert await desk_engine.store.case_messages(case_id) == []


async def test_case_queue_down_still_gives_crisis_lines(
    desk_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(user_key: str) -> None:
        raise StoreError("database is locked")

    monkeypatch.setattr(desk_engine.store, "active_case", down)
    bot = TestBot(desk_engine, user="max", country="GB")
    await bot.send("I need to speak to someone from the team")
    assert "couldn't reach the team's system" in bot.text and "116 123" in bot.text


def test_case_ids_are_unguessable_and_never_look_like_an_option() -> None:
    """An id starting with "-" made `cases show <id>` fail in one run out of 64."""
    ids = {new_case_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(case_id.startswith("-") for case_id in ids)
    assert all(len(case_id) >= 17 for case_id in ids)
