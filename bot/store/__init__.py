"""The store interface. Handlers and the engine see only this.

SQLite is the embedded default; a PostgreSQL backend for several bot processes
implements the same protocol and nothing above it changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from bot.store.models import Checkin, PersonalData, Reminder, UserState


class StoreError(Exception):
    """The store could not do what was asked (locked, gone, corrupt)."""


class Store(Protocol):
    async def get_user(self, key: str) -> UserState | None: ...

    async def save_user(self, state: UserState) -> None: ...

    async def forget_user(self, key: str) -> None:
        """Delete everything kept under `key`; the person's cases stay only anonymised."""
        ...

    async def get_setting(self, platform: str, scope: str, name: str) -> str | None:
        """An adapter's own setting (a Discord server's staff channel id), or None."""
        ...

    async def set_setting(self, platform: str, scope: str, name: str, value: str | None) -> None:
        """Save a setting; None deletes it."""
        ...

    async def close(self) -> None: ...

    async def add_checkin(self, key: str, at: dt.datetime, score: int) -> int:
        """Record a check-in; returns its id (for adding the note)."""
        ...

    async def set_checkin_note(self, key: str, checkin_id: int, note: str) -> None: ...

    async def checkins_since(self, key: str, since: dt.datetime) -> list[Checkin]:
        """The person's check-ins at or after `since`, oldest first."""
        ...

    async def purge_checkins(self, before: dt.datetime) -> int:
        """Delete everyone's check-ins older than the retention policy allows."""
        ...

    async def save_reminder(self, reminder: Reminder) -> None:
        """Create or replace the person's reminder (one per person)."""
        ...

    async def get_reminder(self, key: str) -> Reminder | None: ...

    async def delete_reminder(self, key: str) -> bool:
        """True if there was one."""
        ...

    async def due_reminders(self, now: dt.datetime, limit: int) -> list[Reminder]: ...

    async def personal_data(self, key: str) -> PersonalData: ...


__all__ = ["Store", "StoreError", "UserState"]
