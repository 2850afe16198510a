"""What the bot keeps, /export and /forget, as a person meets them."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.commands import command_payload
from bot.engine import Engine
from bot.store.sqlite import SQLiteStore
from tests.conftest import TestBot


async def _open_case(db: aiosqlite.Connection, key: str, case_id: str, status: str) -> None:
    """A case as the Desk would keep it, with everything /forget must remove."""
    await db.execute(
        "INSERT INTO cases (id, user_key, platform, address, status, priority, lang, country,"
        " contact, contact_detail, display_name, note, created_at, closed_at)"
        " VALUES (?, ?, 'console', 'chat-ana', ?, 'normal', 'en', 'GB', 'email',"
        " 'ana@example.org', 'Ana Example', 'prefers evenings', '2026-11-20T10:00:00Z', ?)",
        (case_id, key, status, "2026-11-21T10:00:00Z" if status == "closed" else None),
    )
    await db.execute(
        "INSERT INTO case_messages (case_id, at, author, text)"
        " VALUES (?, '2026-11-20T10:01:00Z', 'person', 'hello from ana')",
        (case_id,),
    )
    await db.execute(
        "INSERT INTO outbox (case_id, channel, kind, dedupe, body, next_at, created_at)"
        " VALUES (?, 'staff', 'notice', ?, ?, '2026-11-20T10:01:00Z', '2026-11-20T10:01:00Z')",
        (case_id, f"n-{case_id}", f'{{"to": "chat-ana", "key": "{key}"}}'),
    )
    await db.execute(
        "INSERT INTO blocks (user_key, until, reason, by, at) VALUES (?, ?, 'spam', 'x', ?)"
        " ON CONFLICT DO NOTHING",
        (key, "2026-12-01T00:00:00Z", "2026-11-20T10:00:00Z"),
    )


async def _rows_mentioning(db: aiosqlite.Connection, needles: tuple[str, ...]) -> list[str]:
    """Every row of every table that contains one of `needles`."""
    found = []
    async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
        tables = [str(row[0]) for row in await cursor.fetchall()]
    for table in tables:
        async with db.execute(f"SELECT * FROM {table}") as cursor:
            for row in await cursor.fetchall():
                text = repr(tuple(row))
                found += [f"{table}: {text}" for n in needles if n in text]
    return found


async def test_privacy_explains_and_offers_export_and_forget(engine: Engine) -> None:
    bot = TestBot(engine, locale="pt")
    await bot.send("meus dados ficam guardados?")
    assert bot.last.intent == "privacy"
    assert "365 dias" in bot.text and "730 dias" in bot.text
    assert {"export:me", "forget:ask"} <= set(bot.payloads)


async def test_export_shows_everything_kept(
    testbot: TestBot, engine: Engine, store: SQLiteStore
) -> None:
    key = engine.pseudonyms.key("console", "ana")
    await testbot.send(payload="country:GB")
    await testbot.send(payload="mood:4")
    await testbot.send("proud")
    await testbot.send(payload="remind:daily")
    await testbot.send("9pm")
    await _open_case(store._db, key, "case-1", "closed")
    payload = command_payload("export")
    assert payload == "export:me"
    await testbot.send(payload=payload)
    text = testbot.text
    assert "Everything I keep about you" in text
    assert "country: United Kingdom" in text
    assert "4/5 · proud" in text
    assert "every day at 21:00 (Europe/London)" in text
    assert "closed, opened 2026-11-20, closed 2026-11-21" in text
    assert all(reply.private for reply in testbot.last.replies)


async def test_forget_deletes_every_row_about_the_person(
    engine: Engine, store: SQLiteStore
) -> None:
    bot = TestBot(engine, locale="es", country="ES")
    key = engine.pseudonyms.key("console", "ana")
    other = TestBot(engine, user="ben")
    await other.send(payload="mood:3")
    await bot.send("hola")
    await bot.send(payload="mood:2")
    await bot.send("agotada")
    await bot.send(payload="remind:weekly")
    await bot.send("20:00")
    await _open_case(store._db, key, "case-old", "closed")
    await _open_case(store._db, key, "case-now", "open")
    needles = (key, "chat-ana", "ana@example.org", "Ana Example", "hello from ana", "agotada")
    assert len(await _rows_mentioning(store._db, needles)) >= 8

    await bot.send(payload=command_payload("forget"))
    assert "¿Lo borro ahora?" in bot.text
    await bot.press("No, mantenerlo")
    assert "no se borró nada" in bot.text
    assert await _rows_mentioning(store._db, (key,))

    await bot.send(payload="forget:ask")
    await bot.press("Sí, borrarlo todo")
    assert "Todo lo tuyo está borrado" in bot.text
    await engine.drain()
    assert await _rows_mentioning(store._db, needles) == []

    async with store._db.execute("SELECT status, created_at FROM cases ORDER BY id") as cursor:
        kept = [tuple(row) for row in await cursor.fetchall()]
    assert kept == [("closed", "2026-11-20T10:00:00Z")] * 2, "cases stay, anonymised and closed"
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert len(await store.checkins_since(engine.pseudonyms.key("console", "ben"), since)) == 1


async def test_after_forget_the_person_starts_fresh(testbot: TestBot) -> None:
    await testbot.send("hi")
    await testbot.send(payload="forget:yes")
    await testbot.send("hi")
    assert "automated assistant" in testbot.text, "introduced again: nothing was kept"
