"""SQLite store through aiosqlite, in WAL mode, with versioned migrations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store import StoreError
from bot.store.migrations import MIGRATIONS
from bot.store.models import UserState
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
        try:
            async with self._db.execute(
                "SELECT lang, lang_source, country, flow, flow_data, introduced"
                " FROM users WHERE key = ?",
                (key,),
            ) as cursor:
                row = await cursor.fetchone()
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc
        if row is None:
            return None
        lang, lang_source, country, flow, flow_data, introduced = row
        return UserState(
            key=key,
            lang=lang,
            lang_source=lang_source,
            country=country,
            flow=flow,
            flow_data=json.loads(flow_data or "{}"),
            introduced=bool(introduced),
        )

    async def save_user(self, state: UserState) -> None:
        await self._run(
            "INSERT INTO users (key, lang, lang_source, country, flow, flow_data, introduced)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET lang=excluded.lang,"
            " lang_source=excluded.lang_source, country=excluded.country,"
            " flow=excluded.flow, flow_data=excluded.flow_data,"
            " introduced=excluded.introduced,"
            " updated_at=strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (
                state.key,
                state.lang,
                state.lang_source,
                state.country,
                state.flow,
                json.dumps(state.flow_data),
                int(state.introduced),
            ),
        )

    async def forget_user(self, key: str) -> None:
        await self._run("DELETE FROM users WHERE key = ?", (key,))

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
        try:
            async with self._db.execute(sql, params) as cursor:
                row = await cursor.fetchone()
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc
        return tuple(row) if row is not None else None

    async def _run(self, sql: str, params: tuple[object, ...]) -> None:
        try:
            async with self._lock:
                await self._db.execute(sql, params)
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc

    async def close(self) -> None:
        await self._db.close()


async def migrate(db: aiosqlite.Connection) -> int:
    """Bring the schema to the newest version; returns that version."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)
