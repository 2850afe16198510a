"""The store interface. Handlers and the engine see only this.

SQLite is the embedded default; a PostgreSQL backend for several bot processes
implements the same protocol and nothing above it changes.
"""

from __future__ import annotations

from typing import Protocol

from bot.store.models import UserState


class StoreError(Exception):
    """The store could not do what was asked (locked, gone, corrupt)."""


class Store(Protocol):
    async def get_user(self, key: str) -> UserState | None: ...

    async def save_user(self, state: UserState) -> None: ...

    async def forget_user(self, key: str) -> None: ...

    async def get_setting(self, platform: str, scope: str, name: str) -> str | None:
        """An adapter's own setting (a Discord server's staff channel id), or None."""
        ...

    async def set_setting(self, platform: str, scope: str, name: str, value: str | None) -> None:
        """Save a setting; None deletes it."""
        ...

    async def close(self) -> None: ...


__all__ = ["Store", "StoreError", "UserState"]
