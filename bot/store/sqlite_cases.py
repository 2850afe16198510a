"""The case queue, staff list, blocks and outbox in SQLite (mixed into SQLiteStore).

Every change to a case is written in one transaction with the outbox rows
that announce it, so a crash can lose neither the case nor its notices.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from bot.handoff.models import (
    Case,
    CaseMessage,
    Contact,
    Priority,
    StaffMember,
    Status,
)
from bot.handoff.outbox_models import OutboxItem
from bot.store import StoreError

_CASE_COLUMNS = (
    "id, user_key, platform, address, status, priority, lang, country, contact,"
    " contact_detail, display_name, note, assignee, created_at, claimed_at, closed_at,"
    " announced_at, oncall_at, feedback"
)
_MUTABLE = (
    "address",
    "status",
    "priority",
    "assignee",
    "claimed_at",
    "closed_at",
    "announced_at",
    "oncall_at",
    "feedback",
    "country",
)


DUE_AT_ONCE = "0001-01-01T00:00:00+00:00"
"""`next_at` of a new item: due at once, whatever the clock of the process reading it
(a process whose clock lags must not hold back a notice written by another)."""


def _ts(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else None


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _case(row: tuple[Any, ...]) -> Case:
    (id_, user_key, platform, address, status, priority, lang, country, contact) = row[:9]
    (detail, name, note, assignee, created, claimed, closed, announced, oncall, feedback) = row[9:]
    return Case(
        id=id_,
        user_key=user_key,
        platform=platform,
        address=address,
        status=Status(status),
        priority=Priority(priority),
        lang=lang,
        country=country,
        contact=Contact(contact),
        contact_detail=detail,
        display_name=name,
        note=note,
        assignee=assignee,
        created_at=_dt(created) or dt.datetime.now(dt.UTC),
        claimed_at=_dt(claimed),
        closed_at=_dt(closed),
        announced_at=_dt(announced),
        oncall_at=_dt(oncall),
        feedback=feedback,
    )


def _case_values(case: Case) -> dict[str, Any]:
    return {
        "address": case.address,
        "status": case.status.value,
        "priority": case.priority.value,
        "assignee": case.assignee,
        "claimed_at": _ts(case.claimed_at),
        "closed_at": _ts(case.closed_at),
        "announced_at": _ts(case.announced_at),
        "oncall_at": _ts(case.oncall_at),
        "feedback": case.feedback,
        "country": case.country,
    }


class CaseTables:
    """Needs `_db` (an aiosqlite connection in autocommit mode) and `_lock`, held by
    every write so one coroutine's statement never lands in another's transaction."""

    _db: aiosqlite.Connection
    _lock: asyncio.Lock

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; the lock keeps other coroutines' statements out of it."""
        async with self._lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, ValueError) as exc:
                raise StoreError(str(exc)) from exc
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            try:
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._db.execute("ROLLBACK")
                raise StoreError(str(exc)) from exc

    async def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:  # one trip to the database thread, not three (execute, fetch, close)
            return [tuple(row) for row in await self._db.execute_fetchall(sql, params)]
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(str(exc)) from exc

    @staticmethod
    async def _enqueue(db: aiosqlite.Connection, items: Iterable[OutboxItem], now: str) -> None:
        await db.executemany(
            "INSERT OR IGNORE INTO outbox (case_id, channel, kind, dedupe, body, next_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (i.case_id, i.channel, i.kind, i.dedupe, json.dumps(i.body), DUE_AT_ONCE, now)
                for i in items
            ],
        )

    # -- cases -------------------------------------------------------------------

    async def create_case(self, case: Case, notices: Iterable[OutboxItem]) -> tuple[Case, bool]:
        """Insert the case and its notices; if the person already has an open case,
        nothing is written and that case is returned with False."""
        now = _ts(dt.datetime.now(dt.UTC)) or ""
        try:
            async with self._tx() as db:
                await db.execute(
                    f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join('?' * 19)})",
                    (
                        case.id,
                        case.user_key,
                        case.platform,
                        case.address,
                        case.status.value,
                        case.priority.value,
                        case.lang,
                        case.country,
                        case.contact.value,
                        case.contact_detail,
                        case.display_name,
                        case.note,
                        case.assignee,
                        _ts(case.created_at),
                        _ts(case.claimed_at),
                        _ts(case.closed_at),
                        _ts(case.announced_at),
                        _ts(case.oncall_at),
                        case.feedback,
                    ),
                )
                await self._enqueue(db, notices, now)
        except sqlite3.IntegrityError:
            existing = await self.active_case(case.user_key)
            if existing is None:
                raise StoreError("case id clash") from None
            return existing, False
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        return case, True

    async def purge_cases(self, closed_before: dt.datetime) -> int:
        """Delete cases closed before the date, with their transcripts and notices."""
        async with self._tx() as db:
            cursor = await db.execute(
                "DELETE FROM cases WHERE status = 'closed' AND closed_at < ?",
                (_ts(closed_before),),
            )
            return int(cursor.rowcount)

    async def get_case(self, case_id: str) -> Case | None:
        rows = await self._rows(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", (case_id,))
        return _case(rows[0]) if rows else None

    async def active_case(self, user_key: str) -> Case | None:
        rows = await self._rows(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE user_key = ? AND status != 'closed'",
            (user_key,),
        )
        return _case(rows[0]) if rows else None

    async def last_closed_case(self, user_key: str) -> Case | None:
        rows = await self._rows(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE user_key = ? AND status = 'closed'"
            " ORDER BY closed_at DESC LIMIT 1",
            (user_key,),
        )
        return _case(rows[0]) if rows else None

    async def list_cases(self, include_closed: bool = False) -> list[Case]:
        where = "" if include_closed else "WHERE status != 'closed'"
        rows = await self._rows(
            f"SELECT {_CASE_COLUMNS} FROM cases {where} ORDER BY status = 'closed',"
            " status = 'claimed', priority = 'normal', created_at"
        )
        return [_case(row) for row in rows]

    async def update_case(
        self, case: Case, expected: Status, notices: Iterable[OutboxItem] = ()
    ) -> bool:
        """Save the case's changed fields only if its status is still `expected`
        (so two case managers cannot both claim it); False when it was not."""
        values = _case_values(case)
        assignments = ", ".join(f"{name} = ?" for name in _MUTABLE)
        now = _ts(dt.datetime.now(dt.UTC)) or ""
        try:
            async with self._tx() as db:
                cursor = await db.execute(
                    f"UPDATE cases SET {assignments} WHERE id = ? AND status = ?",
                    (*(values[name] for name in _MUTABLE), case.id, expected.value),
                )
                if cursor.rowcount != 1:
                    return False
                await self._enqueue(db, notices, now)
        except sqlite3.IntegrityError:
            return False  # reopening while the person has opened another case
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        return True

    async def add_case_message(
        self, case_id: str, message: CaseMessage, notices: Iterable[OutboxItem] = ()
    ) -> None:
        now = _ts(dt.datetime.now(dt.UTC)) or ""
        try:
            async with self._tx() as db:
                await db.execute(
                    "INSERT INTO case_messages (case_id, at, author, staff_id, text)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (case_id, _ts(message.at), message.author, message.staff_id, message.text),
                )
                await self._enqueue(db, notices, now)
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    async def case_messages(self, case_id: str) -> list[CaseMessage]:
        rows = await self._rows(
            "SELECT at, author, text, staff_id FROM case_messages WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [CaseMessage(_dt(at) or dt.datetime.min, a, t, s) for at, a, t, s in rows]

    async def enqueue(self, notices: Iterable[OutboxItem]) -> None:
        now = _ts(dt.datetime.now(dt.UTC)) or ""
        try:
            async with self._tx() as db:
                await self._enqueue(db, notices, now)
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    # -- where each channel shows a case -------------------------------------------

    async def set_thread(self, case_id: str, channel: str, thread: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT OR REPLACE INTO case_threads (case_id, channel, thread) VALUES (?, ?, ?)",
                (case_id, channel, thread),
            )

    async def thread_of(self, case_id: str, channel: str) -> str | None:
        rows = await self._rows(
            "SELECT thread FROM case_threads WHERE case_id = ? AND channel = ?", (case_id, channel)
        )
        return str(rows[0][0]) if rows else None

    async def case_for_thread(self, channel: str, thread: str) -> str | None:
        rows = await self._rows(
            "SELECT case_id FROM case_threads WHERE channel = ? AND thread = ?", (channel, thread)
        )
        return str(rows[0][0]) if rows else None

    # -- staff and blocks ------------------------------------------------------------

    async def get_staff(self, staff_id: str) -> StaffMember | None:
        rows = await self._rows("SELECT id, name, anonymous FROM staff WHERE id = ?", (staff_id,))
        return StaffMember(rows[0][0], rows[0][1], bool(rows[0][2])) if rows else None

    async def list_staff(self) -> list[StaffMember]:
        rows = await self._rows("SELECT id, name, anonymous FROM staff ORDER BY id")
        return [StaffMember(i, n, bool(a)) for i, n, a in rows]

    async def save_staff(self, member: StaffMember) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO staff (id, name, anonymous) VALUES (?, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET name = excluded.name, anonymous = excluded.anonymous",
                (member.id, member.name, int(member.anonymous)),
            )

    async def remove_staff(self, staff_id: str) -> bool:
        async with self._tx() as db:
            cursor = await db.execute("DELETE FROM staff WHERE id = ?", (staff_id,))
            return cursor.rowcount == 1

    async def block(self, user_key: str, until: dt.datetime, reason: str, by: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT OR REPLACE INTO blocks (user_key, until, reason, by, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_key, _ts(until), reason, by, _ts(dt.datetime.now(dt.UTC))),
            )

    async def blocked_until(self, user_key: str, now: dt.datetime) -> dt.datetime | None:
        rows = await self._rows(
            "SELECT until FROM blocks WHERE user_key = ? AND until > ?", (user_key, _ts(now))
        )
        return _dt(rows[0][0]) if rows else None

    # -- outbox ----------------------------------------------------------------------

    async def due_outbox(
        self, channels: Iterable[str], now: dt.datetime, lease: float, limit: int = 20
    ) -> list[OutboxItem]:
        """Lease the oldest pending item of each (case, channel) that is due, for
        channels this process can deliver to; a dead process's lease runs out."""
        names = sorted(set(channels))
        if not names:
            return []
        marks = ", ".join("?" * len(names))
        at, until = _ts(now), _ts(now + dt.timedelta(seconds=lease))
        async with self._tx() as db:
            cursor = await db.execute(
                "SELECT id, case_id, channel, kind, dedupe, body, attempts FROM outbox o"
                f" WHERE channel IN ({marks}) AND sent_at IS NULL AND failed_at IS NULL"
                " AND next_at <= ? AND (locked_until IS NULL OR locked_until <= ?)"
                " AND id = (SELECT MIN(id) FROM outbox p WHERE p.channel = o.channel"
                " AND p.case_id IS o.case_id AND p.sent_at IS NULL AND p.failed_at IS NULL)"
                " ORDER BY id LIMIT ?",
                (*names, at, at, limit),
            )
            rows = [tuple(r) for r in await cursor.fetchall()]
            await db.executemany(
                "UPDATE outbox SET locked_until = ? WHERE id = ?", [(until, r[0]) for r in rows]
            )
        return [
            OutboxItem(
                id=r[0],
                case_id=r[1],
                channel=r[2],
                kind=r[3],
                dedupe=r[4],
                body=json.loads(r[5]),
                attempts=r[6],
            )
            for r in rows
        ]

    async def outbox_done(self, item_id: int, now: dt.datetime) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET sent_at = ?, locked_until = NULL, body = '{}' WHERE id = ?",
                (_ts(now), item_id),
            )

    async def outbox_retry(self, item_id: int, at: dt.datetime, error: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ?, locked_until = NULL,"
                " error = ? WHERE id = ?",
                (_ts(at), error[:200], item_id),
            )

    async def outbox_failed(self, item_id: int, now: dt.datetime, error: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, failed_at = ?, locked_until = NULL,"
                " error = ? WHERE id = ?",
                (_ts(now), error[:200], item_id),
            )

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._rows(
            "SELECT CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN failed_at IS NOT NULL"
            " THEN 'failed' ELSE 'pending' END AS state, COUNT(*) FROM outbox GROUP BY state"
        )
        return {str(state): int(count) for state, count in rows}
