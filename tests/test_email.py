"""Case notices by email, through aiosmtplib to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

from bot.engine import Engine, Services
from bot.handoff.config import HandoffConfig, SmtpSettings
from bot.handoff.email import EmailChannel
from bot.handoff.models import StaffActor, StaffMember
from bot.pseudonym import Pseudonymizer
from bot.store.sqlite import SQLiteStore
from tests.conftest import Inbox, TestBot, free_port


async def test_a_case_goes_to_the_case_managers_inbox_as_one_thread(
    services: Services, store: SQLiteStore, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    engine = Engine(
        services,
        store,
        Pseudonymizer(b"t"),
        HandoffConfig(staff_channels=("email",), smtp=settings),
    )
    engine.outbox.add_channel(EmailChannel(settings))
    await store.save_staff(StaffMember("console:alex", "Alex"))
    bot = TestBot(engine, user="nia", locale="de")
    await bot.send("ich möchte mit einem menschen sprechen")
    await bot.press("Ja, verbinde mich")
    await bot.press("Per Telefon")
    await bot.send("+49 30 1234567")
    await bot.send("Bitte abends anrufen")
    assert await engine.outbox.run_once() == 1
    first = inbox.messages[0]
    case = (await store.list_cases())[0]
    assert first["To"] == "cases@hub.example" and f"Case {case.id}: New case" in first["Subject"]
    body = first.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "phone: +49 30 1234567" in body and "Bitte abends anrufen" in body
    assert f"python -m bot cases claim {case.id}" in body

    await engine.desk.claim(case.id, StaffActor("console:alex", "Alex"))
    assert await engine.outbox.run_once() == 1
    second = inbox.messages[1]
    assert second["In-Reply-To"] == first["Message-ID"] and "Claimed" in second["Subject"]


async def test_smtp_down_is_retried_not_lost(
    services: Services, store: SQLiteStore, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    down = SmtpSettings("127.0.0.1", free_port(), settings.sender, settings.to, starttls=False)
    engine = Engine(services, store, Pseudonymizer(b"t"), HandoffConfig(staff_channels=("email",)))
    engine.outbox.add_channel(EmailChannel(down))
    bot = TestBot(engine, user="ola")
    await bot.send("talk to a person")
    await bot.press("Yes, connect me")
    await bot.press("Here in this chat")
    await bot.press("Skip")
    assert await engine.outbox.run_once() == 0
    assert await store.outbox_counts() == {"pending": 1}
    # the server is back: a new process (same database) delivers it, once
    later = Engine(services, store, Pseudonymizer(b"t"), HandoffConfig(staff_channels=("email",)))
    later.outbox.add_channel(EmailChannel(settings))
    later.outbox.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert await later.outbox.run_once() == 1
    assert await later.outbox.run_once() == 0
    assert len(inbox.messages) == 1
