"""SQLite store through aiosqlite, in WAL mode, with versioned migrations."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store import StoreError
from bot.store.migrations import MIGRATIONS
from bot.store.models import CaseSummary, Checkin, PersonalData, Reminder, UserState
from bot.store.sqlite_cases import CaseTables


class SQLiteStore(CaseTables):
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> SQLiteStore:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await aiosqlite.connect(str(path), isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA busy_timeout=2000")
            await db.execute("PRAGMA foreign_keys=ON")
            await migrate(db)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database at {path}: {exc}") from exc
        return cls(db)

    async def get_user(self, key: str) -> UserState | None:
        row = await self._one(
            "SELECT lang, lang_source, country, flow, flow_data, introduced, memory"
            " FROM users WHERE key = ?",
            (key,),
        )
        if row is None:
            return None
        lang, lang_source, country, flow, flow_data, introduced, memory = row
        return UserState(
            key=key,
            lang=lang,
            lang_source=lang_source,
            country=country,
            flow=flow,
            flow_data=json.loads(flow_data or "{}"),
            introduced=bool(introduced),
            memory=json.loads(memory or "{}"),
        )

    async def save_user(self, state: UserState) -> None:
        await self._run(
            "INSERT INTO users (key, lang, lang_source, country, flow, flow_data, introduced,"
            " memory) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET lang=excluded.lang,"
            " lang_source=excluded.lang_source, country=excluded.country,"
            " flow=excluded.flow, flow_data=excluded.flow_data,"
            " introduced=excluded.introduced, memory=excluded.memory,"
            " updated_at=strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (
                state.key,
                state.lang,
                state.lang_source,
                state.country,
                state.flow,
                json.dumps(state.flow_data),
                int(state.introduced),
                json.dumps(state.memory),
            ),
        )

    async def forget_user(self, key: str) -> None:
        """One transaction: cases lose everything that points to the person.

        The hub's policy keeps cases (anonymised) for its records, so a case
        keeps its status and dates under a random tombstone that links to
        nobody; its messages, relay address and contact details go.
        """
        tombstone = f"forgotten:{secrets.token_hex(16)}"
        now = _iso(dt.datetime.now(dt.UTC))
        mine = "SELECT id FROM cases WHERE user_key = ?"
        try:
            async with self._tx() as db:
                for sql in (
                    f"DELETE FROM case_messages WHERE case_id IN ({mine})",
                    f"DELETE FROM outbox WHERE case_id IN ({mine})",
                    "DELETE FROM blocks WHERE user_key = ?",
                    "DELETE FROM checkins WHERE user_key = ?",
                    "DELETE FROM reminders WHERE user_key = ?",
                    "DELETE FROM users WHERE key = ?",
                ):
                    await db.execute(sql, (key,))
                await db.execute(
                    "UPDATE cases SET user_key = ?, address = NULL, contact_detail = NULL,"
                    " display_name = NULL, note = NULL,"
                    " closed_at = CASE WHEN status = 'closed' THEN closed_at ELSE ? END,"
                    " status = 'closed' WHERE user_key = ?",
                    (tombstone, now, key),
                )
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc

    async def get_setting(self, platform: str, scope: str, name: str) -> str | None:
        row = await self._one(
            "SELECT value FROM platform_settings WHERE platform = ? AND scope = ? AND name = ?",
            (platform, scope, name),
        )
        return str(row[0]) if row else None

    async def set_setting(self, platform: str, scope: str, name: str, value: str | None) -> None:
        if value is None:
            await self._run(
                "DELETE FROM platform_settings WHERE platform = ? AND scope = ? AND name = ?",
                (platform, scope, name),
            )
        else:
            await self._run(
                "INSERT INTO platform_settings (platform, scope, name, value) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (platform, scope, name) DO UPDATE SET value = excluded.value",
                (platform, scope, name, value),
            )

    async def _one(self, sql: str, params: tuple[object, ...]) -> tuple[Any, ...] | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def _run(self, sql: str, params: tuple[object, ...]) -> None:
        try:
            async with self._lock:
                await self._db.execute(sql, params)
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc

    async def close(self) -> None:
        await self._db.close()

    async def add_checkin(self, key: str, at: dt.datetime, score: int) -> int:
        try:
            cursor = await self._db.execute(
                "INSERT INTO checkins (user_key, at, score) VALUES (?, ?, ?)",
                (key, _iso(at), score),
            )
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc
        return int(cursor.lastrowid or 0)

    async def set_checkin_note(self, key: str, checkin_id: int, note: str) -> None:
        await self._run(
            "UPDATE checkins SET note = ? WHERE id = ? AND user_key = ?", (note, checkin_id, key)
        )

    async def checkins_since(self, key: str, since: dt.datetime) -> list[Checkin]:
        rows = await self._rows(
            "SELECT id, at, score, note FROM checkins WHERE user_key = ? AND at >= ?"
            " ORDER BY at, id",
            (key, _iso(since)),
        )
        return [Checkin(int(i), _parse(at), int(score), note) for i, at, score, note in rows]

    async def purge_checkins(self, before: dt.datetime) -> int:
        try:
            cursor = await self._db.execute("DELETE FROM checkins WHERE at < ?", (_iso(before),))
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc
        return cursor.rowcount

    async def save_reminder(self, reminder: Reminder) -> None:
        r = reminder
        await self._run(
            "INSERT INTO reminders (user_key, platform, chat_id, lang, every, local_time, tz,"
            " weekday, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_key) DO UPDATE SET platform = excluded.platform,"
            " chat_id = excluded.chat_id, lang = excluded.lang, every = excluded.every,"
            " local_time = excluded.local_time, tz = excluded.tz, weekday = excluded.weekday,"
            " next_at = excluded.next_at",
            (
                r.user_key,
                r.platform,
                r.chat_id,
                r.lang,
                r.every,
                r.local_time,
                r.tz,
                r.weekday,
                _iso(r.next_at),
            ),
        )

    async def get_reminder(self, key: str) -> Reminder | None:
        rows = await self._rows(f"{_REMINDER} WHERE user_key = ?", (key,))
        return _reminder(rows[0]) if rows else None

    async def delete_reminder(self, key: str) -> bool:
        try:
            cursor = await self._db.execute("DELETE FROM reminders WHERE user_key = ?", (key,))
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc
        return cursor.rowcount > 0

    async def due_reminders(self, now: dt.datetime, limit: int) -> list[Reminder]:
        rows = await self._rows(
            f"{_REMINDER} WHERE next_at <= ? ORDER BY next_at LIMIT ?", (_iso(now), limit)
        )
        return [_reminder(row) for row in rows]

    async def personal_data(self, key: str) -> PersonalData:
        cases = await self._rows(
            "SELECT status, created_at, closed_at FROM cases WHERE user_key = ?"
            " ORDER BY created_at",
            (key,),
        )
        return PersonalData(
            user=await self.get_user(key),
            checkins=tuple(await self.checkins_since(key, dt.datetime.min.replace(tzinfo=dt.UTC))),
            reminder=await self.get_reminder(key),
            cases=tuple(CaseSummary(str(s), str(c), d) for s, c, d in cases),
        )


_REMINDER = (
    "SELECT user_key, platform, chat_id, lang, every, local_time, tz, weekday, next_at"
    " FROM reminders"
)


def _reminder(row: tuple[Any, ...]) -> Reminder:
    key, platform, chat_id, lang, every, local_time, tz, weekday, next_at = row
    return Reminder(key, platform, chat_id, lang, every, local_time, tz, weekday, _parse(next_at))


def _iso(moment: dt.datetime) -> str:
    """UTC, second precision, sortable as text (like the schema's own defaults)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


async def migrate(db: aiosqlite.Connection) -> int:
    """Bring the schema to the newest version; returns that version."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)
